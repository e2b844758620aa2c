"""Training clips made from still photos: a camera pans and zooms slowly over each photo.

All the real footage that can be had offline is ~4.6k frames from a dozen scenes (shared/data-sources.md), too
little texture for a restoration net that must generalise. High-resolution photos bring the texture; a smooth
camera path over them brings the motion that the sketch's inter coding sees. Each clip is rendered from its
photo alone and a seed, so the clips are rebuilt exactly by the same command.
"""

from __future__ import annotations

import zlib
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

#: the rendered clip's short and long side (the training frame cache's short side, 16:9-ish)
SHORT_SIDE, LONG_SIDE = 272, 480
FRAMES = 45
FPS = Fraction(25)
#: photo pixels per output pixel, drawn log-uniformly: camera footage at 272 px is downscaled 2.6× from 720p and
#: 4× from 1080p; the photos (604–6028 px wide) allow up to their own size over the output's
ZOOM_RANGE = (1.5, 6.0)
#: the window may grow by this much over the clip (a slow zoom out; reversed: in)
ZOOM_DRIFT = 1.1
#: camera speed cap, output pixels per frame (bikes pans ~15 px at 640 px wide; most footage is slower)
MAX_SPEED = 8.0


def pan_clip(photo: np.ndarray, seed: int, frames: int = FRAMES) -> np.ndarray:
    """A `frames`-long clip (uint8 T×h×w×3, landscape or portrait as the photo) of a camera moving over `photo`
    (uint8 H×W×3 RGB). The same photo and seed give the same clip."""
    rng = np.random.default_rng(seed)
    ph, pw = photo.shape[:2]
    h, w = (SHORT_SIDE, LONG_SIDE) if pw >= ph else (LONG_SIDE, SHORT_SIDE)
    fit = min(pw / w, ph / h) / (ZOOM_DRIFT * 1.05)  # the largest zoom that leaves room for the drift
    lo, hi = min(ZOOM_RANGE[0], fit), min(ZOOM_RANGE[1], fit)
    zoom = float(np.exp(rng.uniform(np.log(max(lo, 1.0)), np.log(max(hi, 1.0)))))
    small = cv2.resize(photo, (round(pw / zoom), round(ph / zoom)), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    scales = np.linspace(1.0, rng.uniform(1.0, ZOOM_DRIFT), frames)
    if rng.random() < 0.5:
        scales = scales[::-1]
    room = np.array([sw - w * scales.max(), sh - h * scales.max()])
    start = rng.uniform(0, 1, 2) * np.maximum(room, 0)
    end = rng.uniform(0, 1, 2) * np.maximum(room, 0)
    speed = np.linalg.norm(end - start) / max(1, frames - 1)
    if speed > MAX_SPEED:
        end = start + (end - start) * MAX_SPEED / speed
    if rng.random() < 0.15:  # a static camera now and then
        end = start
    out = np.empty((frames, h, w, 3), np.uint8)
    for k, (s, (x, y)) in enumerate(zip(scales, np.linspace(start, end, frames))):
        matrix = np.array([[s, 0.0, x], [0.0, s, y]])  # output (u, v) -> photo (x + s·u, y + s·v)
        out[k] = cv2.warpAffine(small, matrix, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REFLECT)
    return out


def render_pans(photos: list[Path], folder: Path, clips_per_photo: int = 2) -> list[Path]:
    """Render `clips_per_photo` lossless clips of every photo into `folder` (once: existing clips are kept)."""
    from genvc.io import write_video

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for photo_path in sorted(photos):
        photo = None
        for k in range(clips_per_photo):
            target = folder / f"{photo_path.stem}-{k}.mkv"
            paths.append(target)
            if target.is_file():
                continue
            if photo is None:
                bgr = cv2.imread(str(photo_path), cv2.IMREAD_COLOR)
                if bgr is None:
                    raise ValueError(f"cannot read photo {photo_path}")
                photo = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            write_video(target, pan_clip(photo, seed=zlib.crc32(f"{photo_path.stem}-{k}".encode())), FPS, lossless=True)
    return paths
