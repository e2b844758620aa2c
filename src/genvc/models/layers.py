"""Small 3D building blocks shared by the VAE and the compressor (B x C x T x H x W tensors)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class ChannelRMSNorm(nn.Module):
    """RMS norm over channels at each position (as Wan's VAE): unlike GroupNorm it mixes no statistics across
    time, so it keeps a causal network causal."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps) * self.weight


class CausalConv3d(nn.Conv3d):
    """3D conv padded only towards the past in time (replicate of frame 0), so output frame i sees frames <= i."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride=1):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=(0, kernel_size // 2, kernel_size // 2))
        self.time_pad = kernel_size - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.time_pad:
            x = torch.cat([x[:, :, :1].expand(-1, -1, self.time_pad, -1, -1), x], dim=2)
        return super().forward(x)


class ResBlock3d(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, causal: bool = True):
        super().__init__()
        conv = CausalConv3d if causal else (lambda i, o: nn.Conv3d(i, o, 3, padding=1))
        norm = ChannelRMSNorm if causal else group_norm
        self.body = nn.Sequential(
            norm(in_channels), nn.SiLU(), conv(in_channels, out_channels),
            norm(out_channels), nn.SiLU(), conv(out_channels, out_channels),
        )
        self.skip = nn.Conv3d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.body(x)


class AttentionBlock3d(nn.Module):
    """Pre-norm multi-head self-attention over all T*H*W positions, then a feed-forward layer (both residual)."""

    def __init__(self, channels: int, heads: int = 4):
        super().__init__()
        self.norm1 = nn.LayerNorm(channels)
        self.attn = nn.MultiheadAttention(channels, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(channels)
        self.ffn = nn.Sequential(nn.Linear(channels, 4 * channels), nn.GELU(), nn.Linear(4 * channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        seq = x.flatten(2).transpose(1, 2)
        normed = self.norm1(seq)
        seq = seq + self.attn(normed, normed, normed, need_weights=False)[0]
        seq = seq + self.ffn(self.norm2(seq))
        return seq.transpose(1, 2).reshape(b, c, t, h, w)


def pad_to_multiple(x: torch.Tensor, multiple: tuple[int, int, int]) -> torch.Tensor:
    """Replicate-pad the last three dims of a B x C x T x H x W tensor (at the end) up to multiples of `multiple`."""
    pads = []
    for size, m in zip(reversed(x.shape[2:]), reversed(multiple)):
        pads += [0, (-size) % m]
    if not any(pads):
        return x
    # replicate padding of 5D tensors pads the last three dims; fine for any size >= 1
    return F.pad(x, pads, mode="replicate")
