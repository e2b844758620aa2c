"""Coded picture sizes: whole 8×8 blocks (4:2:0 chroma, AV1's and VVC's smallest blocks), padded by repeating the
edge and cropped after decoding. One owner for the keyframes (`genvc.intra`) and the sketch (`genvc.inter`)."""

from __future__ import annotations

import numpy as np

BLOCK = 8


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The (unpadded) size of a width×height picture at 1/scale, at least one block a side."""
    return max(BLOCK, round(width / scale)), max(BLOCK, round(height / scale))


def padded(size: int, minimum: int = BLOCK) -> int:
    """`size` rounded up to whole blocks, and to at least `minimum`."""
    return max(minimum, size + (-size % BLOCK))


def pad_to_blocks(pictures: np.ndarray, minimum: int = BLOCK) -> np.ndarray:
    """Edge-pad the two picture axes (H, W: axes -3 and -2 of …×H×W×C) to `padded` sizes."""
    h, w = pictures.shape[-3:-1]
    ph, pw = padded(h, minimum) - h, padded(w, minimum) - w
    if not ph and not pw:
        return pictures
    return np.pad(pictures, [(0, 0)] * (pictures.ndim - 3) + [(0, ph), (0, pw), (0, 0)], mode="edge")
