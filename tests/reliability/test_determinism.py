"""Bit-exact decoding: one `.gvc` gives identical frames across runs, processes and thread counts.

Parametrized over every registered method; a method whose model cannot be built here (no weights, no tiny
stand-in) is skipped with the reason. See docs/determinism.md for what is and is not exact across hardware.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genvc.codec import EncodeConfig, decode, encode
from genvc.errors import GenvcError
from genvc.io import Video, read_video
from genvc.methods import method_names
from genvc.samples import sample_path

SRC = Path(__file__).resolve().parents[2] / "src"

# Decodes a .gvc in a fresh interpreter with the given torch / OpenCV thread counts; prints per-frame digests.
DECODE_SCRIPT = """
import hashlib, json, sys
import cv2, torch
torch.set_num_threads(int(sys.argv[2])); cv2.setNumThreads(int(sys.argv[3]))
from genvc.codec import decode
video = decode(open(sys.argv[1], "rb").read())
print(json.dumps([hashlib.sha256(f.tobytes()).hexdigest() for f in video.frames]))
"""


def digests(frames: np.ndarray) -> list[str]:
    return [hashlib.sha256(f.tobytes()).hexdigest() for f in frames]


@pytest.fixture(scope="module")
def carphone() -> Video:
    return read_video(sample_path("carphone"), max_frames=9)


def encoded(method: str, video: Video) -> bytes:
    try:
        return encode(video, EncodeConfig(method=method, keyframe_bytes=1500, shot_detection=False, intra="av1"))
    except (GenvcError, ImportError, OSError) as exc:  # e.g. a learned method without weights on this machine
        pytest.skip(f"method {method} cannot be built here: {exc}")


@pytest.fixture(scope="module", params=method_names())
def stream(request, carphone, tmp_path_factory) -> tuple[bytes, Path]:
    data = encoded(request.param, carphone)
    path = tmp_path_factory.mktemp("det") / f"{request.param}.gvc"
    path.write_bytes(data)
    return data, path


def decode_in_subprocess(path: Path, torch_threads: int, cv2_threads: int) -> list[str]:
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = subprocess.run([sys.executable, "-c", DECODE_SCRIPT, str(path), str(torch_threads), str(cv2_threads)],
                         capture_output=True, text=True, env=env, timeout=300, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_same_process_runs_are_identical(stream, carphone):
    data, _ = stream
    first, second = decode(data).frames, decode(data).frames
    assert first.shape == carphone.frames.shape
    assert np.array_equal(first, second)
    # the clip has inner frames that were generated, not copied keyframes
    assert not np.array_equal(first[4], first[0]) and not np.array_equal(first[4], first[-1])


def test_processes_and_thread_counts_give_identical_frames(stream):
    data, path = stream
    reference = digests(decode(data).frames)
    for torch_threads, cv2_threads in [(1, 1), (2, 2), (1, 2)]:
        assert decode_in_subprocess(path, torch_threads, cv2_threads) == reference, (torch_threads, cv2_threads)


def test_encoding_is_repeatable(stream, carphone):
    data, path = stream
    method = path.stem
    assert encoded(method, carphone) == data
