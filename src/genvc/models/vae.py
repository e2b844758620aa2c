"""Video VAEs behind one interface: 4x8x8 (time x height x width), 16 latent channels, causal in time.

`encode(video)` takes B x 3 x T x H x W in [-1, 1] with T = 4k+1 and H, W multiples of 8 and returns the Gaussian
posterior `(mean, logvar)` of the *normalised* latent, B x 16 x T' x H/8 x W/8 with T' = (T-1)/4 + 1.
`decode(latent)` maps a normalised latent back to video in [-1, 1].
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from genvc.errors import InputError, ModelError
from genvc.models.config import VAEConfig
from genvc.models.layers import CausalConv3d, ChannelRMSNorm, ResBlock3d
from genvc.models.wan_pretrained import load_vae


@runtime_checkable
class VideoVAE(Protocol):
    latent_channels: int
    temporal_factor: int
    spatial_factor: int

    def encode(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def decode(self, latent: torch.Tensor) -> torch.Tensor: ...


def check_video_shape(video: torch.Tensor, temporal: int = 4, spatial: int = 8) -> None:
    if video.ndim != 5 or video.shape[1] != 3:
        raise InputError(f"expected video B x 3 x T x H x W, got {tuple(video.shape)}")
    t, h, w = video.shape[2:]
    if (t - 1) % temporal or h % spatial or w % spatial:
        raise InputError(f"video of {t} frames {h}x{w}: need T = {temporal}k+1 frames and sides multiple of {spatial}")


def _frames_op(x: torch.Tensor, op) -> torch.Tensor:
    """Apply a 2D op (B x C x H x W -> B x C' x H' x W') to every frame of a 5D tensor."""
    b, _, t = x.shape[:3]
    y = op(x.transpose(1, 2).flatten(0, 1))
    return y.unflatten(0, (b, t)).transpose(1, 2)


class TemporalDown(nn.Module):
    """Causal stride-2 in time (T -> (T-1)/2 + 1, frame 0 stays alone) and stride-2 in space."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv3d(channels, channels, 3, stride=2, padding=(0, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([x[:, :, :1]] * 2 + [x], dim=2))


class TemporalUp(nn.Module):
    """Inverse of `TemporalDown`: T' -> 2T' - 1 (frame 0 is not duplicated), 2x nearest in space, then a conv."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = CausalConv3d(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.repeat_interleave(2, dim=2)[:, :, 1:]
        x = _frames_op(x, lambda f: F.interpolate(f, scale_factor=2.0, mode="nearest"))
        return self.conv(x)


class SmallVideoVAE(nn.Module):
    """Our own causal 3D-conv VAE. A 2x2 pixel-unshuffle first (measured ~2-3 dB better at equal CPU time), then
    two stages that halve time and space, so time x space = 4 x 8 x 8 in total."""

    temporal_factor = 4
    spatial_factor = 8

    def __init__(self, config: VAEConfig):
        super().__init__()
        if config.unshuffle != 2 or len(config.channel_mult) != 3:
            raise ModelError("the small VAE needs unshuffle=2 and 3 channel multipliers (4x8x8 in total)")
        self.latent_channels = config.latent_channels
        ch = [config.base_channels * m for m in config.channel_mult]
        self.encoder = nn.Sequential(
            CausalConv3d(3 * 4, ch[0]), ResBlock3d(ch[0], ch[0]), TemporalDown(ch[0]),
            ResBlock3d(ch[0], ch[1]), TemporalDown(ch[1]),
            ResBlock3d(ch[1], ch[2]), ChannelRMSNorm(ch[2]), nn.SiLU(), CausalConv3d(ch[2], 2 * self.latent_channels),
        )
        self.decoder = nn.Sequential(
            CausalConv3d(self.latent_channels, ch[2]), ResBlock3d(ch[2], ch[2]), TemporalUp(ch[2]),
            ResBlock3d(ch[2], ch[1]), TemporalUp(ch[1]),
            ResBlock3d(ch[1], ch[0]), ChannelRMSNorm(ch[0]), nn.SiLU(), CausalConv3d(ch[0], 3 * 4),
        )

    def encode(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_video_shape(video)
        x = _frames_op(video, lambda f: F.pixel_unshuffle(f, 2))
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return _frames_op(self.decoder(latent), lambda f: F.pixel_shuffle(f, 2))


class WanVideoVAE(nn.Module):
    """Wan2.1's `AutoencoderKLWan` (diffusers), latents normalised with its `latents_mean`/`latents_std` exactly as
    the Wan pipelines do. Note: its decode clamps to [-1, 1]."""

    temporal_factor = 4
    spatial_factor = 8

    def __init__(self, config: VAEConfig, dtype: torch.dtype = torch.float32):
        super().__init__()
        from diffusers import AutoencoderKLWan

        if config.pretrained:
            self.vae = load_vae(config.pretrained, dtype)
        else:
            self.vae = AutoencoderKLWan(**config.wan_config)
        self.latent_channels = self.vae.config.z_dim
        if self.latent_channels != config.latent_channels:
            raise ModelError(f"Wan VAE has {self.latent_channels} latent channels, config says {config.latent_channels}")
        shape = (1, self.latent_channels, 1, 1, 1)
        self.register_buffer("latents_mean", torch.tensor(self.vae.config.latents_mean).view(shape), persistent=False)
        self.register_buffer("latents_std", torch.tensor(self.vae.config.latents_std).view(shape), persistent=False)

    def encode(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_video_shape(video)
        dist = self.vae.encode(video.to(self.vae.dtype)).latent_dist
        mean = (dist.mean.float() - self.latents_mean) / self.latents_std
        logvar = dist.logvar.float() - 2.0 * self.latents_std.log()
        return mean, logvar

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        latent = latent * self.latents_std + self.latents_mean
        return self.vae.decode(latent.to(self.vae.dtype)).sample.float()


def build_vae(config: VAEConfig, frozen_dtype: torch.dtype = torch.float32) -> nn.Module:
    """`frozen_dtype` applies to pretrained weights only (the Wan VAE from `pretrained`)."""
    if config.kind == "small":
        return SmallVideoVAE(config)
    if config.kind == "wan":
        return WanVideoVAE(config, frozen_dtype)
    raise ModelError(f"unknown VAE kind {config.kind!r}; expected 'small' or 'wan'")
