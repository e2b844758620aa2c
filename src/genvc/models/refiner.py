"""The small preset's generator: a fully convolutional network that restores a decoded, upsampled sketch frame.

It works on 2×2 pixel-unshuffled frames (half the resolution, 4× the channels) so that it runs at ≥ 0.4
Mpixel/s on two CPU cores, sees the sketch's scale as a constant input plane (1/scale: how much detail was
lost), and predicts a residual on top of its input, so an untrained network is the identity.
Trained on crops (`genvc.training.refiner`), it runs on whole frames of any size.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genvc.errors import ModelError

WEIGHTS_FILE = "refiner.safetensors"
CONFIG_FILE = "refiner.json"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "weights"


@dataclass
class RefinerConfig:
    channels: int = 32
    blocks: int = 4
    model_id: str = "sketch-refiner"


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class SketchRefiner(nn.Module):
    def __init__(self, config: RefinerConfig | None = None):
        super().__init__()
        self.config = config or RefinerConfig()
        c = self.config.channels
        self.head = nn.Conv2d(4 * 4, c, 3, padding=1)  # RGB + scale plane, unshuffled 2×2
        self.body = nn.Sequential(*[ResidualBlock(c) for _ in range(self.config.blocks)])
        self.tail = nn.Conv2d(c, 3 * 4, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, frames: torch.Tensor, scale: float | torch.Tensor) -> torch.Tensor:
        """frames: N×3×H×W in [0, 1]; scale: the sketch's downscale factor (a number or one per frame)."""
        n, _, h, w = frames.shape
        ph, pw = h % 2, w % 2
        x = F.pad(frames, (0, pw, 0, ph), mode="replicate") if ph or pw else frames
        inv = 1.0 / torch.as_tensor(scale, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
        planes = torch.cat([x, inv.expand(n, 1, *x.shape[2:])], dim=1)
        residual = F.pixel_shuffle(self.tail(self.body(self.head(F.pixel_unshuffle(planes, 2)))), 2)
        return (x + residual)[:, :, :h, :w]

    @torch.no_grad()
    def refine(self, frames: np.ndarray, scale: int, batch: int = 2) -> np.ndarray:
        """Refine uint8 T×H×W×3 frames; returns uint8 of the same shape."""
        out = np.empty_like(frames)
        for i in range(0, len(frames), batch):
            x = torch.from_numpy(np.array(frames[i:i + batch])).permute(0, 3, 1, 2).float() / 255.0
            y = self(x, float(scale)).clamp(0, 1).mul(255.0).round().to(torch.uint8)
            out[i:i + batch] = y.permute(0, 2, 3, 1).numpy()
        return out

    # -- weights ---------------------------------------------------------------------------------------------------
    def save_pretrained(self, folder: str | Path) -> Path:
        from safetensors.torch import save_file

        from genvc.utils.atomic import atomic_path

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / WEIGHTS_FILE) as tmp:
            save_file({k: v.detach().contiguous() for k, v in self.state_dict().items()}, str(tmp))
        with atomic_path(folder / CONFIG_FILE) as tmp:
            Path(tmp).write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path | None = None) -> "SketchRefiner":
        """Load from a folder written by `save_pretrained` (default: the weights shipped in the package)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        folder = Path(folder) if folder is not None else DEFAULT_DIR
        weights, config_path = folder / WEIGHTS_FILE, folder / CONFIG_FILE
        if not weights.is_file() or not config_path.is_file():
            raise ModelError(f"no sketch refiner in {folder} (expected {WEIGHTS_FILE} and {CONFIG_FILE}); "
                             "train one with `genvc train-refiner`")
        try:
            config = RefinerConfig(**json.loads(config_path.read_text()))
            model = cls(config)
            model.load_state_dict(load_file(str(weights)))
        except (ValueError, TypeError, RuntimeError, OSError, SafetensorError) as exc:
            raise ModelError(f"cannot load the sketch refiner from {folder}: {exc}") from None
        return model.eval()

    def weights_hash(self) -> bytes:
        """8 bytes identifying these weights (written into streams, so other weights refuse them)."""
        h = hashlib.sha256()
        for name, tensor in sorted(self.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().cpu().float().numpy().tobytes())
        return h.digest()[:8]
