"""VMAF through libvmaf in the static ffmpeg: both videos go in as raw BT.709 limited-range yuv420p (the format
VMAF was trained on), the per-frame scores come back in libvmaf's JSON log."""

from __future__ import annotations

import json
import os
import tempfile
from fractions import Fraction

import numpy as np

from genvc.metrics.color import rgb_to_yuv420_planes


def _even(frames: np.ndarray) -> np.ndarray:
    h, w = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    return frames[:, :h, :w]


def vmaf(original: np.ndarray, decoded: np.ndarray, fps: Fraction = Fraction(25), threads: int = 2,
         model: str = "version=vmaf_v0.6.1") -> float | None:
    """Mean VMAF over frames, or None when this ffmpeg has no libvmaf."""
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
    return float(np.mean(scores))
