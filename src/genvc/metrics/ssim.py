"""SSIM and MS-SSIM (Wang et al. 2003/2004): 11-tap Gaussian window, σ = 1.5, 'valid' filtering, K = (0.01, 0.03).

Matches scikit-image (`gaussian_weights=True, use_sample_covariance=False`) for SSIM and pytorch-msssim for
MS-SSIM. Frames too small for five scales use as many scales as fit, with the standard weights renormalised.
"""

from __future__ import annotations

import cv2
import numpy as np

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW, SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03


def _gaussian_window(size: int = WINDOW, sigma: float = SIGMA) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def _blur(x: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Separable 'valid' Gaussian filter of each (H, W) plane of (N, C, H, W): OpenCV filters the whole plane
    (fast, float64), the borders, which depend on the padding, are dropped."""
    r = len(window) // 2
    out = np.empty(x.shape[:2] + (x.shape[2] - 2 * r, x.shape[3] - 2 * r), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            out[n, c] = cv2.sepFilter2D(x[n, c], -1, window, window,
                                        borderType=cv2.BORDER_CONSTANT)[r:-r, r:-r]
    return out


def _ssim_and_cs(x: np.ndarray, y: np.ndarray, data_range: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean SSIM and contrast-structure term per (image, channel) of (N, C, H, W) arrays."""
    w = _gaussian_window().astype(x.dtype)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y = _blur(x, w), _blur(y, w)
    sxx = _blur(x * x, w) - mu_x * mu_x
    syy = _blur(y * y, w) - mu_y * mu_y
    sxy = _blur(x * y, w) - mu_x * mu_y
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1) * cs
    return ssim.mean(axis=(2, 3), dtype=np.float64), cs.mean(axis=(2, 3), dtype=np.float64)


def _as_nchw(frames: np.ndarray) -> np.ndarray:
    """(T, H, W) or (T, H, W, C) → float32 (T, C, H, W). float32 halves the memory traffic that dominates the
    run time; SSIM agrees with float64 (scikit-image) to ~1e-6."""
    x = np.asarray(frames, dtype=np.float32)
    return x[:, None] if x.ndim == 3 else np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _downsample(x: np.ndarray) -> np.ndarray:
    """2×2 average; odd sides get one zero row/column on each side, as torch's avg_pool2d(padding=1) in
    pytorch-msssim."""
    pad = [(0, 0), (0, 0)] + [(s % 2, s % 2) for s in x.shape[2:]]
    x = np.pad(x, pad)
    h, w = x.shape[2] // 2 * 2, x.shape[3] // 2 * 2
    x = x[:, :, :h, :w]
    return x.reshape(*x.shape[:2], h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def ssim_per_frame(original: np.ndarray, decoded: np.ndarray, data_range: float = 255.0) -> np.ndarray:
    """SSIM of each frame (mean over channels). Inputs: (T, H, W) or (T, H, W, C) on a 0..data_range scale."""
    x, y = _as_nchw(original), _as_nchw(decoded)
    if min(x.shape[-2:]) < WINDOW:
        raise ValueError(f"SSIM needs frames of at least {WINDOW}×{WINDOW}, got {tuple(x.shape[-2:])}")
    return _ssim_and_cs(x, y, data_range)[0].mean(axis=1)


def ssim(original: np.ndarray, decoded: np.ndarray, data_range: float = 255.0) -> float:
    """Mean SSIM over frames and channels."""
    return float(np.mean(_chunked(ssim_per_frame, original, decoded, data_range)))


def ms_ssim_levels(height: int, width: int) -> int:
    """How many of the five scales fit: the coarsest must still be larger than the window after 'valid' filtering."""
    levels = len(MS_SSIM_WEIGHTS)
    while levels > 1 and min(height, width) <= (WINDOW - 1) * 2 ** (levels - 1):
        levels -= 1
    if min(height, width) < WINDOW:
        raise ValueError(f"MS-SSIM needs frames of at least {WINDOW}×{WINDOW}, got {height}×{width}")
    return levels


def ms_ssim(original: np.ndarray, decoded: np.ndarray, data_range: float = 255.0) -> float:
    """Mean MS-SSIM over frames and channels (product over scales per channel, as pytorch-msssim)."""
    return float(np.mean(_chunked(ms_ssim_per_frame, original, decoded, data_range)))


def _chunked(fn, original: np.ndarray, decoded: np.ndarray, data_range: float, chunk: int = 4) -> np.ndarray:
    """Apply a per-frame metric a few frames at a time: float64 copies of a whole 720p clip would take GBs."""
    return np.concatenate([fn(original[i:i + chunk], decoded[i:i + chunk], data_range)
                           for i in range(0, len(original), chunk)])


def ms_ssim_per_frame(original: np.ndarray, decoded: np.ndarray, data_range: float = 255.0) -> np.ndarray:
    """MS-SSIM of each frame (mean over channels)."""
    x, y = _as_nchw(original), _as_nchw(decoded)
    levels = ms_ssim_levels(*x.shape[-2:])
    weights = np.array(MS_SSIM_WEIGHTS[:levels]) / sum(MS_SSIM_WEIGHTS[:levels])
    terms = []
    for level in range(levels):
        s, cs = _ssim_and_cs(x, y, data_range)
        if level < levels - 1:
            terms.append(np.maximum(cs, 0.0))
            x, y = _downsample(x), _downsample(y)
    terms.append(np.maximum(s, 0.0))
    per_channel = np.prod(np.stack(terms) ** weights[:, None, None], axis=0)
    return per_channel.mean(axis=1)
