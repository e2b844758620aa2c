"""The pixel-flow generator's networks (B × C × T × H × W tensors at latent resolution).

- `Compressor`: down half (sender: (x, P) → h) and up half (receiver: ĥ → a correction of P).
- `VelocityNet`: v(x_t, t | receiver features) of (2+1)D residual blocks; its output layer starts at zero, so an
  untrained generator returns its source z exactly (z = P where no h is sent).
- `SketchRestorer`: the upsampled sketch → the frames, per frame with its neighbours (a small U-Net).

(2+1)D convolutions (3×3 in space, then 3 in time) cost about a third of a full 3×3×3 kernel on CPU and let every
frame see its neighbours.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class Block(nn.Module):
    """Residual (2+1)D block with a FiLM from the flow time embedding."""

    def __init__(self, channels: int, embed_dim: int):
        super().__init__()
        self.norm = group_norm(channels)
        self.spatial = nn.Conv3d(channels, channels, (1, 3, 3), padding=(0, 1, 1))
        self.temporal = nn.Conv3d(channels, channels, (3, 1, 1), padding=(1, 0, 0))
        self.film = nn.Linear(embed_dim, 2 * channels)

    def forward(self, x: torch.Tensor, embed: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(embed)[:, :, None, None, None].chunk(2, dim=1)
        y = self.norm(x) * (1 + scale) + shift
        return x + self.temporal(F.silu(self.spatial(F.silu(y))))


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of flow times t ∈ [0, 1] (B,)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = 1000.0 * t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class VelocityNet(nn.Module):
    def __init__(self, latent_channels: int, feature_channels: int, width: int, blocks: int, embed_dim: int = 64):
        super().__init__()
        self.embed_dim = embed_dim
        self.time_mlp = nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.SiLU(), nn.Linear(embed_dim, embed_dim))
        self.features_in = nn.Conv3d(feature_channels, width, (1, 3, 3), padding=(0, 1, 1))
        self.x_in = nn.Conv3d(latent_channels, width, 1)
        self.blocks = nn.ModuleList(Block(width, embed_dim) for _ in range(blocks))
        self.out_norm = group_norm(width)
        self.out = nn.Conv3d(width, latent_channels, (1, 3, 3), padding=(0, 1, 1))
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def encode_features(self, features: torch.Tensor) -> torch.Tensor:
        """The receiver's inputs, projected once per clip (not once per Euler step)."""
        return self.features_in(features)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, projected_features: torch.Tensor) -> torch.Tensor:
        embed = self.time_mlp(time_embedding(t, self.embed_dim))
        y = self.x_in(x_t) + projected_features
        for block in self.blocks:
            y = block(y, embed)
        return self.out(F.silu(self.out_norm(y)))


class Compressor(nn.Module):
    """q_φ. `down` runs at the sender over the original and the receiver's prediction (both latents) and gives h
    (with `log_sigma` for the paper's KL objective); `up` runs at the receiver and maps ĥ back to the latent."""

    def __init__(self, in_channels: int, latent_channels: int, width: int, h_channels: int,
                 strides: tuple[tuple[int, int, int], ...]):
        super().__init__()
        self.strides = strides
        layers: list[nn.Module] = [nn.Conv3d(in_channels, width, (1, 3, 3), padding=(0, 1, 1))]
        for stride in strides:
            layers += [nn.SiLU(), nn.Conv3d(width, width, 3, stride=stride, padding=1)]
        self.down_net = nn.Sequential(*layers)
        self.to_h = nn.Conv3d(width, 2 * h_channels, 1)  # h and log sigma_q
        self.from_h = nn.Conv3d(h_channels, width, 1)
        self.up_convs = nn.ModuleList(nn.Conv3d(width, width, 3, padding=1) for _ in strides)
        self.to_latent = nn.Conv3d(width, latent_channels, (1, 3, 3), padding=(0, 1, 1))

    def down(self, x: torch.Tensor, prediction: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, log_sigma = self.to_h(self.down_net(torch.cat([x, prediction], dim=1))).chunk(2, dim=1)
        return h, log_sigma.clamp(-7, 3)

    def up(self, h: torch.Tensor, latent_shape: tuple[int, int, int]) -> torch.Tensor:
        y = self.from_h(h)
        for stride, conv in zip(reversed(self.strides), self.up_convs):
            y = conv(F.silu(F.interpolate(y, scale_factor=stride, mode="nearest")))
        t, hh, ww = latent_shape
        return self.to_latent(F.silu(y[:, :, :t, :hh, :ww]))


class _PlainResidual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        with torch.no_grad():  # each block starts near the identity: a deep net without norms trains stably
            self.conv2.weight.mul_(0.1)
            self.conv2.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


#: frames the restorer runs on at once: it is per frame (with its neighbours), so memory is bounded by this, not
#: by the window it is given (a 720p frame's half-resolution features are ~30 MB per 32 channels)
RESTORER_CHUNK = 4


class SketchRestorer(nn.Module):
    """The sketch's restoration net: the upsampled sketch → the frames, one frame at a time with its neighbours.

    Input per frame: the frame and its `frames - 1` neighbours (replicated at the clip's ends: a sketch restarts
    with each clip) and two constant planes, 1/scale and QP/63 (how much detail the sketch lost and how much coding
    noise it carries: one net serves every scale and rate the encoder picks). A 2×2 pixel-unshuffle, `outer_blocks`
    residual blocks of `width` channels at 1/2 size, `blocks` of 2·`width` at 1/4 size (a wide receptive field for
    block artifacts of coarse sketches at little cost), and back up with a skip; the output is a correction added
    to the frame, from a zero-initialised last layer (an untrained restorer is the identity).

    Cost: ~40 k multiply-adds per output pixel at (32, 6, 2): measured 1.8 Mpixel/s (fp32) and 3.5 (bf16) on 2
    CPU cores, where the (2+1)D flow at its 4×4 latent ran at 0.3–0.6."""

    def __init__(self, width: int, blocks: int, outer_blocks: int = 2, frames: int = 3):
        super().__init__()
        if frames < 1 or frames % 2 == 0:
            raise ValueError("the restorer sees an odd number of frames (the frame and its neighbours)")
        self.frames = frames
        self.head = nn.Conv2d((3 * frames + 2) * 4, width, 3, padding=1)
        self.encoder = nn.Sequential(*[_PlainResidual(width) for _ in range(outer_blocks)])
        self.down = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.middle = nn.Sequential(*[_PlainResidual(2 * width) for _ in range(blocks)])
        self.up = nn.Conv2d(2 * width, 4 * width, 3, padding=1)
        self.decoder = nn.Sequential(*[_PlainResidual(width) for _ in range(outer_blocks)])
        self.tail = nn.Conv2d(width, 3 * 4, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def _net(self, x: torch.Tensor) -> torch.Tensor:
        # channels-last: oneDNN's convolutions run 1.25-1.3x faster on it (2 cores, fp32, 640x272 frames); the
        # result does not depend on the thread count or the batch, so encoder and decoder still agree exactly
        x = x.contiguous(memory_format=torch.channels_last)
        y = self.encoder(self.head(F.pixel_unshuffle(x, 2)))
        y = y + F.pixel_shuffle(self.up(self.middle(self.down(y))), 2)
        return F.pixel_shuffle(self.tail(self.decoder(y)), 2)

    def forward(self, video: torch.Tensor, inverse_scale: torch.Tensor, qp: torch.Tensor,
                frames: slice = slice(None)) -> torch.Tensor:
        """video B×3×T×H×W in [-1, 1]; inverse_scale and qp (the sketch's QP / 63) of shape (B,). Returns the
        restored `frames` (all by default: training asks for those that have both neighbours)."""
        b, c, t, h, w = video.shape
        pad_h, pad_w = (-h) % 4, (-w) % 4
        padded = F.pad(video, (0, pad_w, 0, pad_h, 0, 0), mode="replicate") if pad_h or pad_w else video
        half = self.frames // 2
        wanted = torch.arange(t, device=video.device)[frames]
        planes = torch.stack([inverse_scale, qp], dim=1).to(video.dtype)[:, :, None, None]
        chunk_size = len(wanted) if self.training else RESTORER_CHUNK  # training: one pass for autograd
        out = []
        for start in range(0, len(wanted), chunk_size):
            chunk = wanted[start:start + chunk_size]
            n = len(chunk)
            # the frame and its neighbours on channels, one frame per batch entry: (B·n)×3F×H×W
            stack = torch.cat([padded[:, :, (chunk + k).clamp(0, t - 1)] for k in range(-half, half + 1)], dim=1)
            x = stack.permute(0, 2, 1, 3, 4).reshape(b * n, -1, *padded.shape[3:])
            x = torch.cat([x, planes.repeat_interleave(n, 0).expand(-1, -1, *x.shape[2:])], dim=1)
            centre = padded[:, :, chunk].permute(0, 2, 1, 3, 4).reshape(b * n, c, *x.shape[2:])
            y = centre + self._net(x).to(centre.dtype)
            out.append(y.reshape(b, n, c, *x.shape[2:]).permute(0, 2, 1, 3, 4))
        return torch.cat(out, dim=2)[..., :h, :w]
