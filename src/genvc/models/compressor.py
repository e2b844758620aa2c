"""The compressor q_phi (FLOW-IB sec. 3.3-3.4, appendix fig. 5).

U-Net-*like*: attention blocks + strided 3D convs down to `h` (sender), transposed 3D convs back up to the latent
resolution (receiver), output (mu_q, sigma_q). There are no skip connections across the two halves: they run on
different machines and only `h` crosses the channel.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genvc.models.config import CompressorConfig
from genvc.models.layers import AttentionBlock3d, ResBlock3d, pad_to_multiple


def _stage(channels: int, attention: bool, heads: int) -> nn.Module:
    blocks = [ResBlock3d(channels, channels, causal=False)]
    if attention:
        blocks.append(AttentionBlock3d(channels, heads))
    return nn.Sequential(*blocks)


class Compressor(nn.Module):
    def __init__(self, config: CompressorConfig, latent_channels: int = 16):
        super().__init__()
        c = config.channels
        self.latent_channels = latent_channels
        self.h_channels = config.h_channels
        self.strides = tuple(tuple(s) for s in config.strides)
        self.total_stride = tuple(math.prod(s[i] for s in self.strides) for i in range(3))
        attention = tuple(config.attention) + (True,) * (len(self.strides) - len(config.attention))

        down = [nn.Conv3d(latent_channels, c, 3, padding=1)]
        for stride, attn in zip(self.strides, attention):
            down += [_stage(c, attn, config.heads), nn.Conv3d(c, c, kernel_size=stride, stride=stride)]
        down += [AttentionBlock3d(c, config.heads), nn.Conv3d(c, config.h_channels, 1)]  # middle: attention + FFN
        self.down_net = nn.Sequential(*down)

        up = [nn.Conv3d(config.h_channels, c, 1), AttentionBlock3d(c, config.heads)]
        for stride, attn in zip(reversed(self.strides), reversed(attention)):
            up += [nn.ConvTranspose3d(c, c, kernel_size=stride, stride=stride), _stage(c, attn, config.heads)]
        up += [nn.Conv3d(c, 2 * latent_channels, 3, padding=1)]
        self.up_net = nn.Sequential(*up)

    def h_shape(self, latent_shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """(T, H, W) of h for a latent of (T', H', W'): ceil division (the latent is replicate-padded)."""
        return tuple(-(-n // s) for n, s in zip(latent_shape, self.total_stride))

    def down(self, latent: torch.Tensor) -> torch.Tensor:
        """Sender side: latent B x 16 x T' x H' x W' -> h B x h_channels x ceil(T'/st) x ceil(H'/sh) x ceil(W'/sw)."""
        return self.down_net(pad_to_multiple(latent, self.total_stride))

    def up(self, h: torch.Tensor, size: tuple[int, int, int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Receiver side: h -> (mu_q, sigma_q) at latent resolution, cropped to `size` = (T', H', W') if given."""
        out = self.up_net(h)
        if size is not None:
            out = out[:, :, : size[0], : size[1], : size[2]]
        mu, log_sigma = out.chunk(2, dim=1)
        return mu, log_sigma.clamp(-10.0, 5.0).exp()

    def forward(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.up(self.down(latent), tuple(latent.shape[2:]))
