"""Bit-exact decoding: one `.gvc` gives identical frames across runs, processes and thread counts.

Parametrized over every registered method. Learned methods run on a tiny random `GenvcModel` saved to disk
(the decoder loads it by path, in-process and in the subprocesses); a method that cannot be built here is skipped
with the reason. See docs/determinism.md for what is and is not exact across hardware.
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
THREADS = [(1, 1), (2, 2), (1, 2)]  # (torch, OpenCV)

# Decodes .gvc files in a fresh interpreter at the given torch / OpenCV thread counts; prints per-frame digests.
DECODE_SCRIPT = """
import hashlib, json, sys
import cv2, torch
torch.set_num_threads(int(sys.argv[1])); cv2.setNumThreads(int(sys.argv[2]))
from genvc.codec import decode
jobs = json.loads(sys.argv[3])
print(json.dumps({name: [hashlib.sha256(f.tobytes()).hexdigest() for f in decode(open(path, "rb").read(),
                  model=model).frames] for name, (path, model) in jobs.items()}))
"""


def digests(frames: np.ndarray) -> list[str]:
    return [hashlib.sha256(f.tobytes()).hexdigest() for f in frames]


@pytest.fixture(scope="module")
def carphone() -> Video:
    # a 96x80 crop around the face keeps the learned methods' decodes (and 3 subprocesses) to seconds
    video = read_video(sample_path("carphone"), max_frames=9)
    return Video(np.ascontiguousarray(video.frames[:, 24:104, 40:136]), video.fps)


def encode_with(method: str, video: Video, model: str | None) -> bytes:
    return encode(video, EncodeConfig(method=method, model=model, shot_detection=False, intra="av1",
                                      method_options={"level": 2}))


@pytest.fixture(scope="module")
def built(carphone, tmp_path_factory) -> dict:
    """method -> (stream, .gvc path, model folder) or the reason it cannot be built here; filled on demand."""
    return {"_dir": tmp_path_factory.mktemp("determinism")}


def build(name: str, carphone: Video, cache: dict, tiny_model_folder):
    if name not in cache:
        directory, model = cache["_dir"], None
        if name not in ("interp", "sketch"):  # sketch decodes with the embedded generator
            model = tiny_model_folder(directory / f"{name}-model", ("flow",) if name in ("multic", "hybrid") else ())
        try:
            data = encode_with(name, carphone, model)
            path = directory / f"{name}.gvc"
            path.write_bytes(data)
            cache[name] = (data, str(path), model)
        except (GenvcError, ImportError, OSError) as exc:  # e.g. a learned method without a model here
            cache[name] = f"method {name} cannot be built here: {exc}"
    return cache[name]


def decode_in_subprocesses(path: str, model: str | None) -> dict[tuple[int, int], list[str]]:
    """A fresh interpreter per (torch, OpenCV) thread setting decodes the stream."""
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    results = {}
    for torch_threads, cv2_threads in THREADS:
        out = subprocess.run([sys.executable, "-c", DECODE_SCRIPT, str(torch_threads), str(cv2_threads),
                              json.dumps({"stream": [path, model]})], capture_output=True, text=True, env=env,
                             timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        results[torch_threads, cv2_threads] = json.loads(out.stdout.strip().splitlines()[-1])["stream"]
    return results


# The default method (sketch) and interp run by default; the learned methods on a tiny model take ~20 s each here
# (model load in 3 fresh interpreters): run with -m slow.
METHODS = [pytest.param(n, marks=() if n in ("interp", "sketch") else pytest.mark.slow) for n in method_names()]


@pytest.fixture(params=METHODS)
def stream(request, carphone, built, tiny_model_folder):
    entry = build(request.param, carphone, built, tiny_model_folder)
    if isinstance(entry, str):
        pytest.skip(entry)
    return request.param, *entry


def test_same_process_runs_are_identical(stream, carphone):
    name, data, _, model = stream
    first, second = decode(data, model=model).frames, decode(data, model=model).frames
    assert first.shape == carphone.frames.shape
    assert np.array_equal(first, second)
    if name != "sketch":  # (sketch decodes its inner frames; a still crop may repeat a picture exactly)
        # the clip has inner frames that were generated, not copied keyframes
        assert not np.array_equal(first[4], first[0]) and not np.array_equal(first[4], first[-1])


def test_processes_and_thread_counts_give_identical_frames(stream):
    name, data, path, model = stream
    reference = digests(decode(data, model=model).frames)
    for threads, result in decode_in_subprocesses(path, model).items():
        assert result == reference, f"{name}: torch/OpenCV threads {threads} decode differently"


def test_encoding_is_repeatable(stream, carphone):
    name, data, _, model = stream
    assert encode_with(name, carphone, model) == data
