"""VMAF through libvmaf in the static ffmpeg: both videos go in as raw BT.709 limited-range yuv420p (the format
VMAF was trained on), the per-frame scores come back in libvmaf's JSON log."""

from __future__ import annotations

import json
import os
import tempfile
from fractions import Fraction
from typing import Iterable

import numpy as np

from genvc.metrics.color import rgb_to_yuv420_planes


VMAF_MODEL = "version=vmaf_v0.6.1"
#: libvmaf's "no enhancement gain" model: VMAF without the credit the default model gives to sharpening and contrast
#: enhancement (a restorer's gain that survives it is not sharpening alone)
VMAF_NEG = "version=vmaf_v0.6.1neg"


def _even(frames: np.ndarray) -> np.ndarray:
    h, w = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    return frames[:, :h, :w]


def vmaf_scores(original: np.ndarray, decoded: np.ndarray, fps: Fraction = Fraction(25), threads: int = 2,
                model: str = VMAF_MODEL) -> list[float] | None:
    """VMAF of each frame, or None when this ffmpeg has no libvmaf."""
    from genvc.ffmpeg import has_libvmaf, run_measured

    if not has_libvmaf():
        return None
    original, decoded = _even(original), _even(decoded)
    t, h, w = original.shape[:3]
    raw = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(fps)]
    with tempfile.TemporaryDirectory(prefix="genvc-vmaf-") as tmp:
        paths = {}
        for name, frames in (("dist", decoded), ("ref", original)):
            paths[name] = os.path.join(tmp, f"{name}.yuv")
            with open(paths[name], "wb") as f:
                for frame in frames:
                    f.write(rgb_to_yuv420_planes(frame))
        log = os.path.join(tmp, "vmaf.json")
        graph = f"[0:v][1:v]libvmaf=model={model}:log_fmt=json:log_path={log}:n_threads={threads}"
        run_measured(raw + ["-i", paths["dist"]] + raw + ["-i", paths["ref"]] + ["-lavfi", graph, "-f", "null", "-"],
                     what="VMAF")
        with open(log) as f:
            result = json.load(f)
    scores = [frame["metrics"]["vmaf"] for frame in result["frames"]]
    if len(scores) != t:
        raise RuntimeError(f"libvmaf scored {len(scores)} frames, expected {t}")
    return scores


def vmaf(original: np.ndarray, decoded: np.ndarray, fps: Fraction = Fraction(25), threads: int = 2,
         model: str = VMAF_MODEL) -> float | None:
    """Mean VMAF over frames, or None when this ffmpeg has no libvmaf."""
    scores = vmaf_scores(original, decoded, fps, threads, model)
    return None if scores is None else float(np.mean(scores))


def streamed_vmaf(pairs: Iterable[tuple[np.ndarray, np.ndarray]], fps: Fraction = Fraction(25), chunk: int = 120,
                  threads: int = 2) -> float | None:
    """Mean VMAF over (original, decoded) frame pairs of any length, holding `chunk` + 2 pairs at a time.

    Exact, not an estimate: a frame's VMAF depends on itself and its two neighbours (the motion feature, motion2,
    is the smaller motion towards the previous and the next frame), so each chunk is scored with one frame more on
    each side and only its own frames' scores are kept."""
    total, count, window = 0.0, 0, []  # window: the frame before the chunk (if any), the chunk, one frame after
    has_before = False
    for pair in pairs:
        window.append(pair)
        if len(window) == has_before + chunk + 1:
            scores = _window_scores(window, fps, threads)
            if scores is None:
                return None
            kept = scores[has_before:has_before + chunk]
            total, count = total + sum(kept), count + len(kept)
            window, has_before = window[-2:], True  # the chunk's last frame comes before the next chunk
    if len(window) > has_before:
        scores = _window_scores(window, fps, threads)
        if scores is None:
            return None
        kept = scores[has_before:]
        total, count = total + sum(kept), count + len(kept)
    return total / count if count else None


def _window_scores(window: list[tuple[np.ndarray, np.ndarray]], fps: Fraction, threads: int) -> list[float] | None:
    return vmaf_scores(np.stack([a for a, _ in window]), np.stack([b for _, b in window]), fps, threads)
