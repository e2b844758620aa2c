import os
import subprocess
import sys
from pathlib import Path

import pytest

from genvc.io import write_video

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def clip_file(tmp_path, make_square_video):
    """A 12-frame 64x48 mp4 (write_video of the moving square)."""
    path = tmp_path / "in.mp4"
    write_video(path, make_square_video(12))
    return path


@pytest.fixture
def genvc_proc():
    return run_genvc


def run_genvc(args: list[str], stdin: bytes = b"", timeout: int = 300) -> subprocess.CompletedProcess:
    """`python -m genvc ARGS` in a subprocess, with real stdin/stdout pipes."""
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    return subprocess.run([sys.executable, "-m", "genvc", *args], input=stdin, capture_output=True, env=env,
                          timeout=timeout)
