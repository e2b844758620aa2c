"""Synthetic-motion clips made from still photos (scikit-image's `data` images, in its wheel: no media in the
repository): a static camera with a moving object, a pan, a zoom and a scene cut. They let the bench and the
tests check the encoder's per-clip decisions on motion they control, not only on the sample clips.

Names: `synth-static`, `synth-pan`, `synth-zoom`, `synth-cut` (anywhere a video name is taken by `genvc bench`).
"""

from __future__ import annotations

import cv2
import numpy as np

from genvc.errors import InputError
from genvc.io import Video

SYNTHETIC = ("synth-static", "synth-pan", "synth-zoom", "synth-cut")
SIZE = (216, 384)  # height, width: 16:9, small enough for 2 cores
FPS = 25
DEFAULT_FRAMES = 45


def _photo(name: str, height: int, width: int, margin: float = 1.0) -> np.ndarray:
    """An RGB still from skimage.data, resized to cover (height, width) × margin."""
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    image = np.ascontiguousarray(image[..., :3]).astype(np.uint8)
    factor = margin * max(height / image.shape[0], width / image.shape[1])
    size = (max(width, round(image.shape[1] * factor)), max(height, round(image.shape[0] * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def _crop(image: np.ndarray, top: float, left: float, height: int, width: int) -> np.ndarray:
    """A height×width window at a sub-pixel offset (bilinear), as a camera would see it."""
    m = np.float32([[1, 0, -left], [0, 1, -top]])
    return cv2.warpAffine(image, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _pan(image: np.ndarray, n: int, height: int, width: int, speed: float) -> np.ndarray:
    span = image.shape[1] - width
    return np.stack([_crop(image, (image.shape[0] - height) / 2, min(span, t * speed), height, width)
                     for t in range(n)])


def synthetic_video(name: str, num_frames: int | None = None, size: tuple[int, int] = SIZE) -> Video:
    """One of `SYNTHETIC`, `num_frames` long (default 45), uint8 RGB, deterministic."""
    n = num_frames or DEFAULT_FRAMES
    h, w = size
    if name == "synth-static":  # a fixed camera on a photo, a textured object crossing it
        background = _photo("astronaut", h, w)[:h, :w]
        sprite = _photo("coffee", h // 3, h // 3)[: h // 3, : h // 3]
        frames = np.repeat(background[None], n, axis=0).copy()
        for t in range(n):
            x = round((w - sprite.shape[1]) * t / max(1, n - 1))
            frames[t, h // 3:h // 3 + sprite.shape[0], x:x + sprite.shape[1]] = sprite
    elif name == "synth-pan":  # 2.5 px a frame to the right, sub-pixel positions
        frames = _pan(_photo("coffee", h, w, margin=1.6), n, h, w, 2.5)
    elif name == "synth-zoom":  # 1 % a frame into the centre
        image = _photo("chelsea", h, w)[:h, :w]
        frames = np.stack([cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), 0, 1.01 ** t), (w, h),
                                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT) for t in range(n)])
    elif name == "synth-cut":  # a pan over one photo, then a hard cut to a pan over another
        first = n // 2
        frames = np.concatenate([_pan(_photo("astronaut", h, w, margin=1.4), first, h, w, 2.0),
                                 _pan(_photo("rocket", h, w, margin=1.4), n - first, h, w, 1.5)])
    else:
        raise InputError(f"unknown synthetic clip {name!r}; known: {', '.join(SYNTHETIC)}")
    return Video(np.ascontiguousarray(frames, dtype=np.uint8), FPS)
