"""SSIM and MS-SSIM (Wang et al. 2003/2004): 11-tap Gaussian window, σ = 1.5, 'valid' filtering, K = (0.01, 0.03).

Matches scikit-image (`gaussian_weights=True, use_sample_covariance=False`) for SSIM and pytorch-msssim for
MS-SSIM. Frames too small for five scales use as many scales as fit, with the standard weights renormalised.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW, SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03


def _gaussian_window(size: int = WINDOW, sigma: float = SIGMA) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def _blur(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filter of (N, C, H, W), one window per channel."""
    c = x.shape[1]
    x = F.conv2d(x, window.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, window.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _ssim_and_cs(x: torch.Tensor, y: torch.Tensor, data_range: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and contrast-structure term per (image, channel)."""
    w = _gaussian_window().to(x)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y = _blur(x, w), _blur(y, w)
    sxx = _blur(x * x, w) - mu_x * mu_x
    syy = _blur(y * y, w) - mu_y * mu_y
    sxy = _blur(x * y, w) - mu_x * mu_y
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1) * cs
    return ssim.mean(dim=(2, 3)), cs.mean(dim=(2, 3))


def _as_nchw(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W) or (T, H, W, C) → float64 (T, C, H, W)."""
    t = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float64))
    return t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2)


def ssim(original: np.ndarray, decoded: np.ndarray, data_range: float = 255.0) -> float:
    """Mean SSIM over frames and channels. Inputs: (T, H, W) or (T, H, W, C) on a 0..data_range scale."""
    x, y = _as_nchw(original), _as_nchw(decoded)
    if min(x.shape[-2:]) < WINDOW:
        raise ValueError(f"SSIM needs frames of at least {WINDOW}×{WINDOW}, got {tuple(x.shape[-2:])}")
    with torch.no_grad():
        return float(_ssim_and_cs(x, y, data_range)[0].mean())


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
    x, y = _as_nchw(original), _as_nchw(decoded)
    levels = ms_ssim_levels(*x.shape[-2:])
    weights = torch.tensor(MS_SSIM_WEIGHTS[:levels], dtype=torch.float64)
    weights = weights / weights.sum()
    terms = []
    with torch.no_grad():
        for level in range(levels):
            s, cs = _ssim_and_cs(x, y, data_range)
            if level < levels - 1:
                terms.append(torch.relu(cs))
                pad = [h % 2 for h in x.shape[2:]]
                x = F.avg_pool2d(x, kernel_size=2, padding=pad)
                y = F.avg_pool2d(y, kernel_size=2, padding=pad)
        terms.append(torch.relu(s))
        per_channel = torch.prod(torch.stack(terms) ** weights.view(-1, 1, 1), dim=0)
        return float(per_channel.mean())
