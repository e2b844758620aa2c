"""Decoded sketches of every training video, coded once per (scale, QP) the way the codec codes them.

The sketch method codes each clip (up to `CLIP_FRAMES` frames, one intra picture at its start) at 1/scale size
with vvenc and upsamples it back (`genvc.inter`). Training the generator on sketches it will really see ("train as
used") needs that coding on whole frames, not on 64-pixel crops (vvenc pads a crop's 16–32-pixel sketch to whole
blocks and predicts across them differently). So each cached training video is coded whole, clip by clip, once per
variant, and its decoded pictures are stored beside the frame cache as a uint8 .npy at the coded size (1/scale²
of the video's bytes); `upsampled` brings a clip's frames to full size with the decoder's own `upsample`, so
training sees exactly what the decoder shows, and many variants fit on disk and in the page cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from genvc.utils.atomic import atomic_path

#: the codec's default clip length (`genvc.clipplan.plan_clips` interval): sketches restart with an intra picture
CLIP_FRAMES = 45


def variant_path(source: Path, scale: float, qp: int) -> Path:
    return source.with_name(f"{source.stem}-coded-s{scale:g}-q{qp}.npy")


#: vvenc preset of the training sketches: the codec's final encodes use `medium`; `faster` is 2.8× quicker and,
#: measured on cockatoo (45 frames at 1/2 size, QP 44), within 7 % of its bytes with the same kind of artifacts
PRESET = "faster"


def code_video(frames: np.ndarray, scale: float, qp: int) -> np.ndarray:
    """The decoded sketch of all `frames` (uint8 T×H×W×3) at its coded size, coded in clips of `CLIP_FRAMES`."""
    from genvc.inter import decode_sketch_small, encode_sketch_at

    t, h, w = frames.shape[:3]
    parts = []
    for start in range(0, t, CLIP_FRAMES):
        clip = np.asarray(frames[start:start + CLIP_FRAMES])
        code = encode_sketch_at(clip, scale, qp, 25.0, PRESET)
        parts.append(decode_sketch_small(code.data, w, h, scale, len(clip)))
    return np.concatenate(parts)


def upsampled(coded: np.ndarray, width: int, height: int, scale: float) -> np.ndarray:
    """Frames of a `code_video` result at full size, as the decoder upsamples them."""
    from genvc.inter import upsample

    return upsample(np.asarray(coded), width, height, scale)


def build_sketch_cache(sources: list[Path], variants: list[tuple[float, int]]) -> dict[Path, list[Path]]:
    """For every cached source (.npy), its sketch variants (coded where not yet cached), in `variants` order."""
    todo = [(s, v) for s in sources for v in variants if not variant_path(s, *v).exists()]
    for source, (scale, qp) in tqdm(todo, desc="coding training sketches", unit="video", disable=None):
        coded = code_video(np.load(source, mmap_mode="r"), scale, qp)
        with atomic_path(variant_path(source, scale, qp)) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, coded)
                f.flush()
                os.fsync(f.fileno())
    return {s: [variant_path(s, *v) for v in variants] for s in sources}
