"""Keyframe interpolations of every training video, made once per keyframe quality the way the codec makes them.

`flowib`, `multic` and `hybrid` start from the receiver's interpolation between two decoded keyframes
(`genvc.methods.receiver.from_keyframes`). Its errors depend on how far apart the keyframes are (the codec's
interval, 45 frames) and on how they were coded, so a restorer of that prediction must train on whole clips of it,
not on the 3-frame windows it is shown at a time. Each cached training video gets keyframes every `INTERVAL`
frames (and its last), coded with the real AV1 intra codec at one crf per variant; every clip between two of them
is interpolated as the decoder does, and the prediction and its occlusion map are stored beside the frame cache as
uint8 .npy files. `positions` gives each frame's place between its two keyframes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from genvc.utils.atomic import atomic_path

#: keyframe interval of the cached clips: the codec's default (`genvc.clipplan.plan_clips`)
INTERVAL = 45


def variant_paths(source: Path, crf: int) -> tuple[Path, Path]:
    """(prediction, occlusion) cache files of `source` with keyframes at `crf`."""
    stem = f"{source.stem}-keyframes-crf{crf}"
    return source.with_name(f"{stem}.npy"), source.with_name(f"{stem}-occlusion.npy")


def keyframe_indices(num_frames: int) -> np.ndarray:
    """The keyframes of a video of `num_frames` frames: every `INTERVAL`-th and the last."""
    return np.unique(np.append(np.arange(0, num_frames, INTERVAL), num_frames - 1))


def positions(frames: np.ndarray, num_frames: int) -> np.ndarray:
    """Each of `frames` (indices) as its place between the two keyframes around it: 0 at one, 1 at the next
    (a keyframe itself is 0)."""
    keys = keyframe_indices(num_frames)
    frames = np.asarray(frames)
    after = np.clip(np.searchsorted(keys, frames, side="right"), 1, len(keys) - 1)
    lo, hi = keys[after - 1], keys[after]
    return ((frames - lo) / np.maximum(1, hi - lo)).astype(np.float32)


def interpolate_video(frames: np.ndarray, crf: int) -> tuple[np.ndarray, np.ndarray]:
    """(prediction T×H×W×3, occlusion T×H×W×1) of all `frames` (uint8 T×H×W×3): keyframes coded at `crf` (each
    once, shared by the clips on both sides) and every clip between them interpolated as the decoder does."""
    from genvc.methods.interp import receiver_inputs
    from genvc.training.receiver import coded_keyframe

    t = len(frames)
    prediction = np.empty(frames.shape, np.uint8)
    occlusion = np.zeros((*frames.shape[:3], 1), np.uint8)
    keys = keyframe_indices(t)
    decoded = {int(k): coded_keyframe(np.asarray(frames[k]), crf) for k in keys}
    prediction[keys[0]] = decoded[int(keys[0])]
    for lo, hi in zip(keys[:-1], keys[1:]):
        inputs = receiver_inputs(decoded[int(lo)], decoded[int(hi)], int(hi - lo + 1))
        prediction[lo:hi + 1] = inputs["prediction"]
        occlusion[lo:hi + 1] = inputs["occlusion"][..., :1]
    return prediction, occlusion


def _save(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)
            f.flush()
            os.fsync(f.fileno())


def build_keyframe_cache(sources: list[Path], crfs: list[int]) -> dict[Path, list[tuple[Path, Path]]]:
    """For every cached source (.npy), its (prediction, occlusion) variants (made where not yet cached), in `crfs`
    order."""
    todo = [(s, c) for s in sources for c in crfs if not all(p.exists() for p in variant_paths(s, c))]
    for source, crf in tqdm(todo, desc="interpolating training keyframes", unit="video", disable=None):
        prediction, occlusion = interpolate_video(np.load(source, mmap_mode="r"), crf)
        prediction_path, occlusion_path = variant_paths(source, crf)
        _save(occlusion_path, occlusion)
        _save(prediction_path, prediction)
    return {s: [variant_paths(s, c) for c in crfs] for s in sources}
