"""A small real model implementing the genvc model contract, for the trainer's tests.

A 2-layer 3D-conv autoencoder with a learned factorized Laplace rate model on a noise-quantised latent:
loss = MSE + lambda * bits-per-pixel. Used through ``model_module: tiny_codec`` (tests put this folder on the path).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn


@dataclass
class ModelConfig:
    channels: int = 8
    latent_channels: int = 4
    rate_weight: float = 0.01

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


class GenvcModel(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c, z = config.channels, config.latent_channels
        self.encoder = nn.Sequential(nn.Conv3d(3, c, 3, stride=(1, 2, 2), padding=1), nn.GELU(),
                                     nn.Conv3d(c, z, 3, stride=(1, 2, 2), padding=1))
        self.decoder = nn.Sequential(nn.ConvTranspose3d(z, c, (3, 4, 4), stride=(1, 2, 2), padding=1), nn.GELU(),
                                     nn.ConvTranspose3d(c, 3, (3, 4, 4), stride=(1, 2, 2), padding=1))
        self.log_scale = nn.Parameter(torch.zeros(z))

    def _bits(self, latent: torch.Tensor) -> torch.Tensor:
        scale = self.log_scale.exp().view(1, -1, 1, 1, 1)
        laplace = torch.distributions.Laplace(torch.zeros_like(scale), scale)
        p = laplace.cdf(latent + 0.5) - laplace.cdf(latent - 0.5)
        return -torch.log2(p.clamp_min(1e-9)).sum()

    def training_losses(self, batch: dict, stage: str = "all") -> dict[str, torch.Tensor]:
        video = batch["video"]
        latent = self.encoder(video)
        noisy = latent + torch.rand_like(latent) - 0.5  # additive uniform noise stands in for rounding
        mse = (self.decoder(noisy) - video).pow(2).mean()
        pixels = video.shape[0] * video.shape[2] * video.shape[3] * video.shape[4]
        bits = self._bits(noisy)
        bpp = bits / pixels
        return {"loss": mse + self.config.rate_weight * bpp, "mse": mse, "rate_bits": bits / video.shape[0],
                "bpp": bpp}

    @torch.no_grad()
    def reconstruct(self, video: torch.Tensor, conditions=None, stage: str = "flow") -> torch.Tensor:
        return self.decoder(torch.round(self.encoder(video))).clamp(-1, 1)

    def save_pretrained(self, directory) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(self.config.to_dict()))
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(directory / "model.safetensors"))

    @classmethod
    def from_pretrained(cls, directory) -> "GenvcModel":
        directory = Path(directory)
        model = cls(ModelConfig.from_dict(json.loads((directory / "config.json").read_text())))
        model.load_state_dict(load_file(str(directory / "model.safetensors")))
        return model

    def weights_hash(self) -> str:
        digest = hashlib.sha256()
        for key, value in sorted(self.state_dict().items()):
            digest.update(key.encode())
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()


def build_model(config: ModelConfig) -> GenvcModel:
    return GenvcModel(config)
