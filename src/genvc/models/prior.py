"""The prior p(z|c) of FLOW-IB sec. 3.3 and the closed-form KL(q || p) of two diagonal Gaussians."""

from __future__ import annotations

import torch


def mask_inner_frames(video: torch.Tensor) -> torch.Tensor:
    """The clip with every frame but the first and the last set to zero (B x 3 x T x H x W)."""
    masked = torch.zeros_like(video)
    masked[:, :, 0] = video[:, :, 0]
    masked[:, :, -1] = video[:, :, -1]
    return masked


def gaussian_kl(mu_q: torch.Tensor, sigma_q: torch.Tensor, mu_p: torch.Tensor, sigma_p: torch.Tensor) -> torch.Tensor:
    """Elementwise KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)) =
    log(sigma_p / sigma_q) + (sigma_q^2 + (mu_q - mu_p)^2) / (2 sigma_p^2) - 1/2."""
    return torch.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5


def conditional_prior(vae, video: torch.Tensor, min_sigma: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu_p, sigma_p) = VAE(clip with inner frames zeroed). mu_p doubles as the generator's keyframe condition
    (it is exactly Wan FLF2V's `VAE(first, zeros, last)` condition latent). `min_sigma` floors sigma_p: a VAE
    posterior can be nearly deterministic (diffusers clamps logvar at -30), which would make the KL explode."""
    mean, logvar = vae.encode(mask_inner_frames(video))
    return mean, (0.5 * logvar).exp().clamp_min(min_sigma)
