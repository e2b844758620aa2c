"""Generator inputs besides x_t: Wan FLF2V's keyframe condition and Multi-C's rendered modalities."""

from __future__ import annotations

import torch
from torch import nn


def keyframe_mask(num_frames: int, latent_shape: tuple[int, ...], temporal_factor: int = 4) -> torch.Tensor:
    """Wan FLF2V's 4-channel mask: 1 at pixel frames 0 and T-1, folded `temporal_factor` pixel frames per latent
    frame (frame 0 repeated to fill its group), as in diffusers' `WanImageToVideoPipeline.prepare_latents`."""
    b, _, t_lat, h, w = latent_shape
    mask = torch.zeros(b, 1, num_frames, h, w)
    mask[:, :, [0, num_frames - 1]] = 1
    mask = torch.cat([mask[:, :, :1].repeat_interleave(temporal_factor, dim=2), mask[:, :, 1:]], dim=2)
    return mask.view(b, t_lat, temporal_factor, h, w).transpose(1, 2)


class ModalityConditioner(nn.Module):
    """Multi-C sec. 3: each modality's VAE latent x_m gets a role-aware offset (Eq. 2)
    x_m = x̄_m + delta_m e_d + (1 - delta_m) e_c, where x̄_m is zeroed when the modality is dropped (prob. `dropout`
    while training) or absent; the results are concatenated on channels in `modalities` order."""

    def __init__(self, modalities: tuple[str, ...], channels: int, dropout: float = 0.3, role_embeddings: bool = True):
        super().__init__()
        self.modalities = tuple(modalities)
        self.channels = channels
        self.dropout = dropout
        self.role_embeddings = role_embeddings
        # per modality, per channel: [dropout role e_d, conditioning role e_c]
        self.roles = nn.Parameter(torch.zeros(len(self.modalities), 2, channels))
        nn.init.normal_(self.roles, std=0.02)

    @property
    def out_channels(self) -> int:
        return self.channels * len(self.modalities)

    def forward(self, latents: dict[str, torch.Tensor], like: torch.Tensor) -> torch.Tensor:
        """`latents`: modality -> B x C x T' x H' x W' (any subset); `like`: a tensor of that shape (for absent ones)."""
        unknown = set(latents) - set(self.modalities)
        if unknown:
            raise ValueError(f"unknown modalities {sorted(unknown)}; model has {self.modalities}")
        out = []
        for index, name in enumerate(self.modalities):
            latent = latents.get(name)
            batch = like.shape[0]
            if latent is None:
                dropped = torch.ones(batch, device=like.device, dtype=torch.bool)
                latent = torch.zeros_like(like)
            else:
                dropped = torch.zeros(batch, device=like.device, dtype=torch.bool)
                if self.training and self.dropout > 0:
                    dropped = torch.rand(batch, device=like.device) < self.dropout
                latent = torch.where(dropped.view(-1, 1, 1, 1, 1), torch.zeros_like(latent), latent)
            if self.role_embeddings:
                e_d, e_c = self.roles[index, 0], self.roles[index, 1]
                offset = torch.where(dropped.view(-1, 1), e_d, e_c)  # B x C
                latent = latent + offset.view(batch, -1, 1, 1, 1).to(latent.dtype)
            out.append(latent)
        return torch.cat(out, dim=1) if out else like.new_zeros(like.shape[0], 0, *like.shape[2:])
