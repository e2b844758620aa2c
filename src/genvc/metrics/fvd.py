"""FVD with the StyleGAN-V protocol: the TorchScript I3D (`i3d_torchscript.pt`) called with
`rescale=False, resize=False, return_features=True`; each clip resized (shorter side 224, bilinear), centre
cropped to 224×224, scaled to [-1, 1]; Fréchet distance between Gaussian fits of the 400-d features.

The weights cannot be downloaded here: `load_i3d()` looks in `$GENVC_I3D` or the torch hub cache and returns None
when they are absent (FVD is then reported as unavailable). With only a few 16-frame windows per video, the FVD of
one video is a rough indicator, not the 2048-video protocol number.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F

from genvc.errors import ModelError

I3D_FILE = "i3d_torchscript.pt"
CLIP_FRAMES = 16
RESOLUTION = 224


def load_i3d(path: str | os.PathLike | None = None):
    path = path or os.environ.get("GENVC_I3D") or Path(torch.hub.get_dir()) / "checkpoints" / I3D_FILE
    if not Path(path).is_file():
        return None
    try:
        return torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"cannot load the I3D model {path}: {exc}") from None


def preprocess(clip: np.ndarray, resolution: int = RESOLUTION) -> torch.Tensor:
    """uint8 (T, H, W, 3) → float (3, T, R, R) in [-1, 1]."""
    video = torch.from_numpy(np.ascontiguousarray(clip)).permute(3, 0, 1, 2).float() / 255.0
    _, _, h, w = video.shape
    scale = resolution / min(h, w)
    size = (resolution, math.ceil(w * scale)) if h < w else (math.ceil(h * scale), resolution)
    video = F.interpolate(video, size=size, mode="bilinear", align_corners=False)
    top, left = (video.shape[2] - resolution) // 2, (video.shape[3] - resolution) // 2
    video = video[:, :, top:top + resolution, left:left + resolution]
    return ((video - 0.5) * 2).contiguous()


def windows(frames: np.ndarray, length: int = CLIP_FRAMES, stride: int = 4) -> list[np.ndarray]:
    if len(frames) < length:
        raise ValueError(f"FVD needs at least {length} frames, got {len(frames)}")
    return [frames[s:s + length] for s in range(0, len(frames) - length + 1, stride)]


def i3d_features(model, frames: np.ndarray, batch: int = 4, resolution: int = RESOLUTION) -> np.ndarray:
    clips = [preprocess(c, resolution) for c in windows(frames)]
    feats = []
    with torch.no_grad():
        for i in range(0, len(clips), batch):
            x = torch.stack(clips[i:i + batch])
            feats.append(model(x, rescale=False, resize=False, return_features=True).double().numpy())
    return np.concatenate(feats)


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    mu_a, mu_b = feats_a.mean(0), feats_b.mean(0)
    mean_term = float(np.square(mu_a - mu_b).sum())
    if len(feats_a) < 2 or len(feats_b) < 2:
        return mean_term
    sigma_a, sigma_b = np.cov(feats_a, rowvar=False), np.cov(feats_b, rowvar=False)
    root = scipy.linalg.sqrtm(sigma_a @ sigma_b)
    return float(np.real(mean_term + np.trace(sigma_a + sigma_b - 2.0 * root)))


def fvd(model, original: np.ndarray, decoded: np.ndarray) -> float:
    return frechet_distance(i3d_features(model, decoded), i3d_features(model, original))
