"""The restorer's perceptual training criterion, as generative image and video codecs train their decoders
(HiFiC, GLC): distortion (L1) + frozen perceptual networks (LPIPS-Alex, LPIPS-VGG, DISTS) + a small patch
discriminator (non-saturating GAN loss).

One backward pass trains both players: the generator's adversarial term runs the discriminator with its parameters
detached (`torch.func.functional_call`), and the discriminator's own loss sees the generated frames detached, so
each set of parameters gets exactly its own gradient and the trainer's single optimizer (the discriminator is a
second parameter group) and DDP's gradient sync work unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genvc.training.config import PerceptualConfig


class PatchDiscriminator(nn.Module):
    """A PatchGAN (Isola et al. 2017): strided convs, one real/fake logit per ~30-pixel patch. GroupNorm, not
    BatchNorm: its statistics do not depend on the batch, and it holds no running buffers."""

    def __init__(self, width: int = 64, layers: int = 3) -> None:
        super().__init__()
        modules, channels = [nn.Conv2d(3, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)], width
        for i in range(1, layers):
            out = width * min(2 ** i, 4)
            modules += [nn.Conv2d(channels, out, 4, stride=2 if i < layers - 1 else 1, padding=1),
                        nn.GroupNorm(8, out), nn.LeakyReLU(0.2)]
            channels = out
        modules.append(nn.Conv2d(channels, 1, 4, padding=1))
        self.net = nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PerceptualCriterion(nn.Module):
    """`forward(output, target)` on frames (N, 3, H, W) in [-1, 1] → {"loss": total, one entry per term}."""

    def __init__(self, config: PerceptualConfig) -> None:
        super().__init__()
        self.config = config
        self.lpips = self.lpips_vgg = self.dists = self.discriminator = None
        if config.lpips:
            from genvc.metrics.lpips import load_lpips

            self.lpips = _frozen_copy(load_lpips("alex"))
        if config.lpips_vgg:
            from genvc.metrics.lpips import load_lpips

            self.lpips_vgg = _frozen_copy(load_lpips("vgg"))
        if config.dists:
            from genvc.metrics.dists import load_dists

            self.dists = _frozen_copy(load_dists())
        if config.adversarial:
            self.discriminator = PatchDiscriminator(config.discriminator_width, config.discriminator_layers)

    def parameter_groups(self) -> list[dict]:
        """The discriminator's parameters, as an optimizer group with its own learning rate (none without it)."""
        if self.discriminator is None:
            return []
        return [{"params": list(self.discriminator.parameters()), "lr": self.config.discriminator_lr}]

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        cfg = self.config
        terms = {"l1": (output - target).abs().mean()}
        if self.lpips is not None:
            terms["lpips"] = self.lpips(output, target).mean()
        if self.lpips_vgg is not None:
            terms["lpips_vgg"] = self.lpips_vgg(output, target).mean()
        if self.dists is not None:
            terms["dists"] = self.dists((output + 1) / 2, (target + 1) / 2).mean()
        weights = {"l1": cfg.l1, "lpips": cfg.lpips, "lpips_vgg": cfg.lpips_vgg, "dists": cfg.dists}
        loss = sum(weights[k] * v for k, v in terms.items())
        if self.discriminator is not None:
            frozen = {name: p.detach() for name, p in self.discriminator.named_parameters()}
            terms["adversarial"] = F.softplus(-torch.func.functional_call(self.discriminator, frozen, (output,))).mean()
            real, fake = self.discriminator(target), self.discriminator(output.detach())
            terms["discriminator"] = F.softplus(-real).mean() + F.softplus(fake).mean()
            loss = loss + cfg.adversarial * terms["adversarial"] + terms["discriminator"]
        return {"loss": loss, **{k: v.detach() for k, v in terms.items()}}


def _frozen_copy(network: nn.Module) -> nn.Module:
    """The cached metric network, shared by reference with the bench's metrics, stays untouched by training (a
    `.to(device)` or autocast elsewhere): the criterion owns its copy."""
    import copy

    return copy.deepcopy(network).eval().requires_grad_(False)
