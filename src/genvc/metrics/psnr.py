"""PSNR on RGB, on Y/U/V and DCVC's weighted (6Y+U+V)/8, averaged over frames."""

from __future__ import annotations

import numpy as np

from genvc.metrics.color import rgb_to_yuv

# A frame that matches exactly has infinite PSNR; inside a video that also has lossy frames it is capped so the
# frame average stays finite. A video that matches exactly reports inf.
MAX_FRAME_PSNR = 100.0


def frame_mse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-frame MSE over every axis but the first."""
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return (diff * diff).reshape(diff.shape[0], -1).mean(axis=1)


def psnr_from_mse(mse: np.ndarray, peak: float = 255.0) -> float:
    """Frame-averaged PSNR from per-frame MSEs."""
    mse = np.asarray(mse, np.float64)
    if np.all(mse == 0):
        return float("inf")
    with np.errstate(divide="ignore"):
        per_frame = 10.0 * np.log10(peak * peak / mse)
    return float(np.minimum(per_frame, MAX_FRAME_PSNR).mean())


def psnr_rgb(original: np.ndarray, decoded: np.ndarray) -> float:
    return psnr_from_mse(frame_mse(original, decoded))


def psnr_yuv(original: np.ndarray, decoded: np.ndarray, matrix: str = "bt709") -> dict[str, float]:
    """PSNR of Y, U, V (full-range `matrix` conversion, 4:4:4) and DCVC's (6·Y + U + V) / 8."""
    a = rgb_to_yuv(original, matrix, full_range=True)
    b = rgb_to_yuv(decoded, matrix, full_range=True)
    out = {name: psnr_from_mse(frame_mse(a[..., i], b[..., i])) for i, name in enumerate(("y", "u", "v"))}
    out["yuv"] = (6.0 * out["y"] + out["u"] + out["v"]) / 8.0
    return out
