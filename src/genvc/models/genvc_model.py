"""`GenvcModel`: VAE + compressor q_phi + prior + entropy model + flow generator (+ Multi-C conditioner).

Training stages (`training_losses(batch, stage=...)`):
- "vae": only the small VAE learns (reconstruction MSE + `vae.kl_weight` * KL to N(0, I)); other losses report 0.
- "flow" (default): the VAE is frozen (run without grad); compressor, entropy model, generator and modality
  embeddings learn with flow-matching MSE + beta * KL(q || p) (+ `rate_weight` * bits of h per latent element),
  plus a term that fits the entropy model to the (detached) h. Use `trainable_parameters(stage)` for the optimizer.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from genvc.errors import ModelError
from genvc.models.compressor import Compressor
from genvc.models.conditioning import ModalityConditioner, keyframe_mask
from genvc.models.config import ModelConfig
from genvc.models.entropy import GaussianEntropyModel, bf16_bytes, bf16_from_bytes, bf16_round
from genvc.models.flow import euler_sample, interpolate, target_velocity
from genvc.models.wan_transformer import WAN_CONDITION_CHANNELS, FlowGenerator
from genvc.models.wan_pretrained import torch_dtype
from genvc.models.pretrained import PretrainedMixin
from genvc.models.prior import conditional_prior, gaussian_kl
from genvc.models.vae import build_vae

STAGES = ("vae", "flow")


class GenvcModel(PretrainedMixin, nn.Module):
    """Saved and loaded by `PretrainedMixin` (config.json of kind "genvc" + model.safetensors); folders saved before
    config.json carried a kind still load. Weights from pretrained files named in the config are not saved."""

    config_class = ModelConfig
    model_kind = "genvc"
    kind_optional = True

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        frozen_dtype = torch_dtype(config.frozen_dtype)
        self.vae = build_vae(config.vae, frozen_dtype)
        c = config.vae.latent_channels
        self.compressor = Compressor(config.compressor, c)
        self.entropy = None
        if config.entropy.coding == "entropy":
            self.entropy = GaussianEntropyModel(config.entropy, config.compressor.h_channels, c,
                                                self.compressor.total_stride)
        self.conditioner = ModalityConditioner(config.modalities, c, config.modality_dropout, config.role_embeddings)
        in_channels = WAN_CONDITION_CHANNELS + (c if config.path == "noise" else 0) + self.conditioner.out_channels
        self.generator = FlowGenerator(config.generator, in_channels, c, frozen_dtype)
        self._prompt_encoder = None  # umT5, loaded on the first caption (not a submodule: never saved or trained)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # -- building blocks shared by training, `reconstruct` and the codec methods --------------------------------
    @torch.no_grad()
    def encode_latent(self, video: torch.Tensor) -> torch.Tensor:
        return self.vae.encode(video)[0]

    @torch.no_grad()
    def condition_latent(self, first: torch.Tensor, last: torch.Tensor, num_frames: int) -> torch.Tensor:
        """VAE(first, zeros, last) for keyframes B x 3 x H x W: the generator's condition, the prior mean and the
        entropy model's context. Both codec sides compute it from the *decoded* keyframes."""
        video = first.new_zeros(first.shape[0], 3, num_frames, *first.shape[2:])
        video[:, :, 0], video[:, :, -1] = first, last
        return self.vae.encode(video)[0]

    @torch.no_grad()
    def image_embeddings(self, first: torch.Tensor, last: torch.Tensor) -> torch.Tensor | None:
        """CLIP tokens of the keyframes B x 3 x H x W for an FLF2V transformer (image_dim set), else None. Like
        `condition_latent`, both codec sides compute them from the *decoded* keyframes."""
        encoder = self.generator.image_encoder
        return None if encoder is None else encoder(first, last)

    @torch.no_grad()
    def text_embeddings(self, captions: list[str]) -> torch.Tensor:
        """umT5 embeddings of captions (B x text_tokens x D) for `generate(text_embeds=...)`; needs
        `generator.text_encoder`. The encoder (6.7B parameters for umT5-XXL) is loaded on first use."""
        source = self.generator.text_encoder_source
        if not source:
            raise ModelError("this model has no text encoder (generator.text_encoder): it cannot use a caption")
        if self._prompt_encoder is None:
            from genvc.models.text_encoder import PromptEncoder

            encoder = PromptEncoder.load(source, torch_dtype(self.config.frozen_dtype),
                                         self.config.generator.text_tokens)
            encoder.model.to(self.device)
            self._prompt_encoder = encoder
        return self._prompt_encoder.encode(list(captions)).to(self.device)

    @torch.no_grad()
    def modality_latents(self, conditions: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor]:
        return {name: self.vae.encode(video)[0] for name, video in (conditions or {}).items()}

    def quantize_h(self, h: torch.Tensor, condition: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(h_hat, bits per clip) in the configured coding mode."""
        if self.entropy is None:
            return bf16_round(h), torch.full((h.shape[0],), 16.0 * h[0].numel(), device=h.device)
        return self.entropy.quantize(h, condition), self.entropy.rate_bits(h, condition)

    def generator_inputs(self, x_t, condition, num_frames, z=None, modality_latents=None) -> torch.Tensor:
        mask = keyframe_mask(num_frames, tuple(condition.shape), self.vae.temporal_factor).to(condition)
        parts = [x_t, mask, condition]
        if self.config.path == "noise":
            parts.append(z)
        parts.append(self.conditioner(modality_latents or {}, like=condition))
        return torch.cat(parts, dim=1)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, condition: torch.Tensor, num_frames: int,
                 modality_latents: dict[str, torch.Tensor] | None = None, steps: int | None = None,
                 generator: torch.Generator | None = None, image_embeds: torch.Tensor | None = None,
                 text_embeds: torch.Tensor | None = None) -> torch.Tensor:
        """Latent of the clip from code z (= mu_q) by Euler steps from t=1 to t=0; then VAE-decoded video.
        `image_embeds`: `image_embeddings(first, last)`, needed when the transformer has image_dim set;
        `text_embeds`: `text_embeddings(captions)` of a sent caption (default: the constant text input)."""
        steps = steps or self.config.sampling_steps
        if self.config.path == "reformed":
            source = z
        else:
            source = torch.randn(z.shape, generator=generator, device=z.device)

        def velocity(x_t, t):
            inputs = self.generator_inputs(x_t, condition, num_frames, z, modality_latents)
            return self.generator(inputs, t, image_embeds, text_embeds)

        latent = euler_sample(velocity, source, steps)
        return self.vae.decode(latent)

    # -- training ------------------------------------------------------------------------------------------------
    def trainable_parameters(self, stage: str = "flow") -> list[nn.Parameter]:
        if stage not in STAGES:
            raise ModelError(f"unknown training stage {stage!r}; expected one of {STAGES}")
        modules = [self.vae] if stage == "vae" else [self.compressor, self.entropy, self.conditioner, self.generator]
        return [p for m in modules if m is not None for p in m.parameters() if p.requires_grad]

    def training_losses(self, batch: dict, stage: str = "flow") -> dict[str, torch.Tensor]:
        video = batch["video"].to(self.device)
        if stage == "vae":
            return self._vae_losses(video)
        if stage != "flow":
            raise ModelError(f"unknown training stage {stage!r}; expected one of {STAGES}")
        num_frames = video.shape[2]
        with torch.no_grad():
            x = self.vae.encode(video)[0]
            mu_p, sigma_p = conditional_prior(self.vae, video, self.config.prior_min_sigma)
            modalities = self.modality_latents(batch.get("conditions"))
            image_embeds = self.image_embeddings(video[:, :, 0], video[:, :, -1])
        condition = mu_p  # == VAE(first, zeros, last)
        h = self.compressor.down(x)
        h_hat, rate_bits = self.quantize_h(h, condition)
        mu_q, sigma_q = self.compressor.up(h_hat, tuple(x.shape[2:]))
        if self.config.prior == "standard":
            mu_p, sigma_p = torch.zeros_like(mu_q), torch.ones_like(sigma_q)
        kl = gaussian_kl(mu_q, sigma_q, mu_p, sigma_p).mean()
        z = mu_q + sigma_q * torch.randn_like(mu_q)
        if self.config.h_dropout > 0:
            dropped = torch.rand(z.shape[0], device=z.device) < self.config.h_dropout
            z = torch.where(dropped.view(-1, 1, 1, 1, 1), condition, z)
        source = z if self.config.path == "reformed" else torch.randn_like(x)
        t = torch.rand(x.shape[0], device=x.device)
        x_t = interpolate(x, source, t)
        velocity = self.generator(self.generator_inputs(x_t, condition, num_frames, z, modalities), t, image_embeds)
        flow_mse = F.mse_loss(velocity, target_velocity(x, source))
        loss = flow_mse + self.config.beta * kl
        latent_elements = x[0].numel()
        if self.entropy is not None:
            loss = loss + self.config.rate_weight * rate_bits.mean() / latent_elements
            # fits the probability model to h without pushing the compressor (CompressAI's separate-likelihood idea)
            loss = loss + self.entropy.rate_bits(h.detach(), condition).mean() / latent_elements
        pixels = num_frames * video.shape[3] * video.shape[4]
        return {"loss": loss, "flow_mse": flow_mse.detach(), "kl": kl.detach(),
                "rate_bits": rate_bits.detach().mean(), "bpp": rate_bits.detach().mean() / pixels}

    def _vae_losses(self, video: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.config.vae.kind != "small":
            raise ModelError("stage='vae' trains our small VAE only; the Wan VAE is used as pretrained")
        mean, logvar = self.vae.encode(video)
        latent = mean + (0.5 * logvar).exp() * torch.randn_like(mean)
        recon_mse = F.mse_loss(self.vae.decode(latent), video)
        kl = gaussian_kl(mean, (0.5 * logvar).exp(), torch.zeros_like(mean), torch.ones_like(mean)).mean()
        zero = video.new_zeros(())
        return {"loss": recon_mse + self.config.vae.kl_weight * kl, "recon_mse": recon_mse.detach(),
                "flow_mse": zero, "kl": kl.detach(), "rate_bits": zero, "bpp": zero}

    # -- the whole codec path on tensors ---------------------------------------------------------------------------
    def compress_h(self, latent: torch.Tensor, condition: torch.Tensor) -> bytes:
        h = self.compressor.down(latent)
        if self.entropy is None:
            return bf16_bytes(h)
        return self.entropy.compress(h, condition)

    def decompress_h(self, data: bytes, latent_shape: tuple[int, int, int], condition: torch.Tensor) -> torch.Tensor:
        h_shape = (1, self.config.compressor.h_channels, *self.compressor.h_shape(latent_shape))
        if self.entropy is None:
            return bf16_from_bytes(data, h_shape).to(condition.device)
        return self.entropy.decompress(data, h_shape, condition)

    @torch.no_grad()
    def reconstruct(self, video: torch.Tensor, conditions: dict[str, torch.Tensor] | None = None,
                    stage: str = "flow") -> torch.Tensor:
        """Sender -> receiver on a batch (quantisation included, mu_q as z); the input keyframes are put back at both
        ends, as the codec does with its decoded keyframes. `stage="vae"` measures what that stage trains: the VAE
        alone (encode, take the mean, decode)."""
        was_training = self.training
        self.eval()
        try:
            video = video.to(self.device)
            if stage == "vae":
                return self.vae.decode(self.vae.encode(video)[0]).clamp(-1, 1)
            num_frames = video.shape[2]
            x = self.encode_latent(video)
            condition = self.condition_latent(video[:, :, 0], video[:, :, -1], num_frames)
            h_hat, _ = self.quantize_h(self.compressor.down(x), condition)
            mu_q, _ = self.compressor.up(h_hat, tuple(x.shape[2:]))
            image_embeds = self.image_embeddings(video[:, :, 0], video[:, :, -1])
            out = self.generate(mu_q, condition, num_frames, self.modality_latents(conditions),
                                image_embeds=image_embeds)
            out = out.clamp(-1, 1)
            out[:, :, 0], out[:, :, -1] = video[:, :, 0], video[:, :, -1]
            return out
        finally:
            self.train(was_training)

    # -- persistence ---------------------------------------------------------------------------------------------
    def _external_prefixes(self) -> tuple[str, ...]:
        """State-dict keys that come from pretrained files named in the config, not from our weights file."""
        prefixes = []
        if self.config.vae.kind == "wan" and self.config.vae.pretrained:
            prefixes.append("vae.")
        if self.generator.pretrained:
            prefixes.append("generator.transformer.")
        if self.generator.image_encoder is not None:
            prefixes.append("generator.image_encoder.")  # frozen CLIP, loaded from `generator.image_encoder`
        return tuple(prefixes)

    def _is_saved(self, key: str) -> bool:
        if not key.startswith(self._external_prefixes()):
            return True
        return "lora_" in key or (self.generator.widened and key.startswith("generator.transformer.patch_embedding."))

    def saved_state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items() if self._is_saved(k)}

    def load_saved_state(self, state: dict[str, torch.Tensor], directory: Path) -> None:
        expected = {k for k in self.state_dict() if self._is_saved(k)}
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise ModelError(f"weights in {directory} do not match its config (missing {missing[:3]}, extra {extra[:3]})")
        try:
            self.load_state_dict(state, strict=False)  # the pretrained parts came from their own files
        except RuntimeError as exc:
            raise ModelError(f"weights in {directory} do not match its config: {exc}") from exc


def build_model(config: ModelConfig) -> GenvcModel:
    return GenvcModel(config)
