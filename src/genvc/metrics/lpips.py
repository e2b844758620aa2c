"""LPIPS (Zhang et al. 2018, v0.1, AlexNet) without torchvision.

Two weight files are needed and neither can be downloaded here:
- the AlexNet backbone, torchvision's `alexnet-owt-7be5be79.pth` (keys `features.N.weight/bias`), looked up in
  `$GENVC_LPIPS_BACKBONE` or the torch hub cache where torchvision puts it;
- the linear heads `alex.pth` (keys `linN.model.1.weight`), shipped inside the `lpips` pip package (installed with
  `--no-deps`; we read the file, we never import the package because it imports torchvision), or `$GENVC_LPIPS_LINEAR`.
When either is missing `load_lpips()` returns None and the metric is reported as unavailable.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genvc.errors import ModelError

BACKBONE_FILE = "alexnet-owt-7be5be79.pth"
CHANNELS = (64, 192, 384, 256, 256)
# The network's input normalisation, from the LPIPS ScalingLayer.
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


class AlexFeatures(nn.Module):
    """torchvision AlexNet `features` with the same module indices, returning the five ReLU outputs LPIPS uses."""

    TAPS = (1, 4, 7, 9, 11)

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.TAPS:
                taps.append(x)
        return taps


class LPIPS(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = AlexFeatures()
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))

    @classmethod
    def from_files(cls, backbone: str | os.PathLike, linear: str | os.PathLike) -> "LPIPS":
        model = cls()
        try:
            backbone_sd = torch.load(backbone, map_location="cpu", weights_only=True)
            linear_sd = torch.load(linear, map_location="cpu", weights_only=True)
            features = {k: v for k, v in backbone_sd.items() if k.startswith("features.")}
            model.net.load_state_dict(features, strict=True)
            model.lins.load_state_dict({k.replace("lin", "").replace(".model.1", ""): v for k, v in linear_sd.items()})
        except (RuntimeError, OSError, KeyError, AttributeError) as exc:
            raise ModelError(f"cannot load LPIPS weights ({backbone}, {linear}): {exc}") from None
        return model.eval().requires_grad_(False)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x, y: (N, 3, H, W) in [-1, 1] → (N,) distances."""
        fx, fy = self.net((x - self.shift) / self.scale), self.net((y - self.shift) / self.scale)
        total = 0.0
        for a, b, lin in zip(fx, fy, self.lins):
            a = a / (a.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            b = b / (b.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            total = total + lin((a - b) ** 2).mean(dim=(2, 3))
        return total.view(-1)


def default_weight_paths() -> tuple[Path | None, Path | None]:
    backbone = os.environ.get("GENVC_LPIPS_BACKBONE")
    if backbone is None:
        backbone = Path(torch.hub.get_dir()) / "checkpoints" / BACKBONE_FILE
    linear = os.environ.get("GENVC_LPIPS_LINEAR")
    if linear is None:
        spec = importlib.util.find_spec("lpips")
        if spec is not None and spec.submodule_search_locations:
            linear = Path(spec.submodule_search_locations[0]) / "weights" / "v0.1" / "alex.pth"
    found = [Path(p) if p is not None and Path(p).is_file() else None for p in (backbone, linear)]
    return found[0], found[1]


def load_lpips(backbone: str | os.PathLike | None = None, linear: str | os.PathLike | None = None) -> LPIPS | None:
    """The LPIPS model from explicit paths or the default locations; None when the weights are not on disk."""
    default_backbone, default_linear = default_weight_paths()
    backbone = backbone or default_backbone
    linear = linear or default_linear
    if backbone is None or linear is None:
        return None
    return LPIPS.from_files(backbone, linear)


def lpips_distance(model: LPIPS, original: np.ndarray, decoded: np.ndarray, batch: int = 4) -> float:
    """Mean LPIPS over frames of uint8 RGB (T, H, W, 3)."""
    def to_tensor(frames):
        return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 127.5 - 1.0

    values = []
    with torch.no_grad():
        for i in range(0, len(original), batch):
            values.append(model(to_tensor(original[i:i + batch]), to_tensor(decoded[i:i + batch])))
    return float(torch.cat(values).mean())
