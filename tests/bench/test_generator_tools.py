"""The generator's measurement scripts run end to end on a tiny model and a tiny video."""

import subprocess
import sys
from pathlib import Path

from genvc.io import write_video

ROOT = Path(__file__).resolve().parents[2]


def test_generator_check_reports_each_prediction(tmp_path, make_square_video, tiny_generator):
    source = tmp_path / "in.mp4"
    write_video(source, make_square_video(num_frames=20, height=48, width=64))
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "generator_check.py"), str(source), "--model",
                          tiny_generator, "--height", "48", "--start", "2", "--frames", "16", "--sketches", "2:40"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].endswith("frames 2-17 at 64x48")
    assert lines[1].startswith("sketch 1/2 QP 40: P ") and "generator" in lines[1]
    assert lines[2].startswith("keyframes (13 frames): P ") and "| generator " in lines[2]
    assert lines[3].startswith("  h at step 1: ") and "generator with h" in lines[3]  # the default step
