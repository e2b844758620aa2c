"""`PixelFlowModel`: FLOW-IB on the receiver's prediction, with Multi-C conditions, for the small preset.

The receiver first computes its best zero-bit guess P of the clip (motion-compensated interpolation of the decoded
keyframes, or the upsampled sketch) plus both keyframes warped to every frame and an occlusion map
(`genvc.methods.interp.receiver_inputs`). Everything is moved to an exactly invertible latent (pixel-unshuffle).

- Sender: h = down(x, P); quantised with step s and rANS-coded under a Gaussian predicted from P (the conditional
  prior p(h | c), c = what the receiver has; `prior="standard"` is the factorised ablation).
- Receiver: z = P + up(ĥ), then the reformed flow x_t = (1−t)·x + t·z from t=1 to t=0 in `sampling_steps`
  Euler steps, the velocity conditioned on the receiver's inputs and the rendered Multi-C conditions (each with a
  role embedding e_c sent / e_d absent; modality dropout in training). The velocity's last layer starts at zero:
  an untrained generator returns z, and without h, P.

Training (`training_losses`): flow-matching MSE on the reformed path + `rate_weight`·bits per pixel of h (or the
paper's β·KL(q‖p) with `objective="kl"`), with h dropped for `h_dropout` of the clips so one model also serves
methods that send no h.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from genvc.errors import ModelError
from genvc.models.entropy import GaussianEntropyModel
from genvc.models.pixelflow.config import (
    DEFAULT_SKETCH_QP, RECEIVER_INPUTS, SKETCH_QP_KEY, SOURCE_KEY, PixelFlowConfig,
)
from genvc.models.pixelflow.networks import Compressor, SketchRestorer, VelocityNet
from genvc.models.pretrained import PretrainedMixin
from genvc.models.prior import gaussian_kl
from genvc.utils.cpu import native_bf16


class PixelFlowModel(PretrainedMixin, nn.Module):
    config_class = PixelFlowConfig
    model_kind = "pixelflow"

    def __init__(self, config: PixelFlowConfig):
        super().__init__()
        self.config = config
        c = 3 * config.unshuffle**2
        self.latent_channels = c
        # receiver inputs: P, two warped keyframes (c each) and the occlusion map (one channel, unshuffled)
        self.context_channels = c + config.unshuffle**2
        features = 3 * c + config.unshuffle**2 + c * len(config.modalities) + (c if config.path == "noise" else 0)
        self.compressor = Compressor(2 * c, c, config.compressor_width, config.h_channels, config.h_strides)
        self.entropy = GaussianEntropyModel(config.entropy, config.h_channels, self.context_channels,
                                            config.h_stride)
        self.velocity = VelocityNet(c, features, config.width, config.blocks)
        # role embeddings (Multi-C eq. 2): per modality e_c (sent) / e_d (absent), added to its latent; h's role
        # is added to the projected features
        self.modality_roles = nn.Parameter(torch.zeros(len(config.modalities), 2, c))
        self.h_roles = nn.Parameter(torch.zeros(2, config.width))
        # where P comes from (keyframe interpolation or the sketch, and at what scale): the sketch's P is already
        # close, its errors are blur and coding noise rather than misplaced motion
        self.source_embed = nn.Linear(2, config.width)
        self.restorer = (SketchRestorer(config.restorer_width, config.restorer_blocks, config.restorer_outer_blocks,
                                        config.restorer_frames) if config.restorer_width else None)

    def trainable_parameters(self, stage: str | None = None) -> list[nn.Parameter]:
        """Stage "restorer" trains the sketch's restorer alone (on a trained flow); stage "flow" everything but the
        restorer (the flow trained again on a model whose restorer is done); no stage: everything."""
        if stage == "restorer":
            if self.restorer is None:
                raise ModelError("stage 'restorer' needs model.restorer_width > 0")
            return list(self.restorer.parameters())
        if stage == "flow":
            kept = set() if self.restorer is None else {id(p) for p in self.restorer.parameters()}
            return [p for p in self.parameters() if id(p) not in kept]
        return list(self.parameters())

    def skips_flow(self, receiver: dict, h_sent: bool) -> bool:
        """True where the flow does not run: clips whose P is a sketch, without h, when `sketch_flow` is off."""
        source = receiver.get(SOURCE_KEY)
        return (not self.config.sketch_flow and not h_sent and source is not None
                and bool((source[:, 0] > 0.5).all()))

    def restore(self, video: torch.Tensor, receiver: dict, frames: slice = slice(None)) -> torch.Tensor:
        """The restorer on generated frames (pixels) of clips whose P is a sketch (`frames` of them); the others
        pass unchanged."""
        source = receiver.get(SOURCE_KEY)
        if self.restorer is None or source is None or not bool((source[:, 0] > 0.5).any()):
            return video[:, :, frames]
        qp = receiver.get(SKETCH_QP_KEY)
        qp = source.new_full((len(source),), DEFAULT_SKETCH_QP / 63) if qp is None else qp.reshape(-1)
        is_sketch = (source[:, 0] > 0.5).view(-1, 1, 1, 1, 1)
        # inference in bf16 where the CPU runs it natively; training keeps whatever precision the trainer set
        # (an autocast(enabled=False) here would switch the trainer's bf16 off)
        fast = not self.training and _native_bf16(video)
        with torch.autocast("cpu", torch.bfloat16) if fast else contextlib.nullcontext():
            restored = self.restorer(video, source[:, 1], qp, frames)
        return torch.where(is_sketch, restored, video[:, :, frames])

    # -- latent ------------------------------------------------------------------------------------------------------
    def to_latent(self, video: torch.Tensor) -> torch.Tensor:
        """B×3×T×H×W in [-1, 1] → B×(3f²)×T×(H/f)×(W/f), exactly invertible."""
        b, ch, t, h, w = video.shape
        frames = video.permute(0, 2, 1, 3, 4).reshape(b * t, ch, h, w)
        latent = F.pixel_unshuffle(frames, self.config.unshuffle)
        return latent.reshape(b, t, *latent.shape[1:]).permute(0, 2, 1, 3, 4)

    def from_latent(self, latent: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = latent.shape
        frames = F.pixel_shuffle(latent.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w), self.config.unshuffle)
        return frames.reshape(b, t, *frames.shape[1:]).permute(0, 2, 1, 3, 4)

    # -- what the receiver has -----------------------------------------------------------------------------------
    def receiver_latents(self, receiver: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(P latent, entropy context) from the receiver inputs (videos B×3×T×H×W in [-1, 1]; occlusion in its
        first channel)."""
        missing = [k for k in RECEIVER_INPUTS if k not in receiver]
        if missing:
            raise ModelError(f"the generator needs the receiver inputs {missing}")
        prediction = self.to_latent(receiver["prediction"])
        occlusion = self.to_latent(receiver["occlusion"][:, :1])
        return prediction, torch.cat([prediction, occlusion], dim=1)

    def features(self, receiver: dict[str, torch.Tensor], context: torch.Tensor,
                 modalities: dict[str, torch.Tensor] | None, h_sent: torch.Tensor,
                 drop_modalities: torch.Tensor | None = None, source: torch.Tensor | None = None) -> torch.Tensor:
        """The velocity net's projected conditioning. `h_sent` (B,) bool; `drop_modalities` (B×M) bool marks
        modalities treated as absent (training dropout); a modality missing from `modalities` is absent too."""
        anchors = [self.to_latent(receiver[k]) for k in ("anchor_first", "anchor_last")]
        parts = [context[:, : self.latent_channels], *anchors, context[:, self.latent_channels:]]
        batch = context.shape[0]
        for i, name in enumerate(self.config.modalities):
            video = (modalities or {}).get(name)
            absent = torch.full((batch,), video is None, dtype=torch.bool, device=context.device)
            if drop_modalities is not None:
                absent = absent | drop_modalities[:, i]
            latent = torch.zeros_like(parts[0]) if video is None else self.to_latent(video)
            latent = latent * (~absent).view(-1, 1, 1, 1, 1)  # dropped: a black image sequence, as the paper
            role = self.modality_roles[i][absent.long()]  # e_c for sent, e_d for absent
            parts.append(latent + role[:, :, None, None, None])
        if self.config.path == "noise":
            parts.append(source)
        projected = self.velocity.encode_features(torch.cat(parts, dim=1))
        source = receiver.get(SOURCE_KEY)
        if source is None:  # keyframe interpolation: not the sketch, full-size keyframes
            source = context.new_tensor([0.0, 1.0]).expand(batch, 2)
        projected = projected + self.source_embed(source.to(projected.dtype))[:, :, None, None, None]
        return projected + self.h_roles[(~h_sent).long()][:, :, None, None, None]

    # -- the flow ------------------------------------------------------------------------------------------------
    def generate(self, source: torch.Tensor, features: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        """Euler integration of dx/dt = v from t=1 (source) to t=0; 0 steps return the source."""
        steps = self.config.sampling_steps if steps is None else steps
        x = source
        times = torch.linspace(1.0, 0.0, steps + 1, device=source.device)
        for t, t_next in zip(times[:-1], times[1:]):
            x = x + (t_next - t) * self.velocity(x, t.expand(x.shape[0]), features)
        return x

    def _source_and_extra(self, z: torch.Tensor, generator: torch.Generator | None = None):
        """(flow source, extra conditioning): z itself on the reformed path; noise with z on channels otherwise."""
        if self.config.path == "reformed":
            return z, None
        noise = torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)
        return noise, z

    # -- training ------------------------------------------------------------------------------------------------
    def training_losses(self, batch: dict, stage: str | None = None, criterion=None) -> dict[str, torch.Tensor]:
        """`criterion` (stage "restorer" only): (output, target) frames N×3×H×W → {"loss", ...}, instead of L1 (the
        perceptual and adversarial losses of `genvc.training.perceptual`)."""
        if stage == "restorer":
            return self._restorer_losses(batch, criterion)
        cfg = self.config
        video = batch["video"]
        conditions = batch.get("conditions") or {}
        x = self.to_latent(video)
        prediction, context = self.receiver_latents(conditions)
        b = x.shape[0]
        lo, hi = cfg.step_range
        step = math.exp(torch.empty(()).uniform_(math.log(lo), math.log(hi)).item())
        h, log_sigma = self.compressor.down(x, prediction)
        bits = self.entropy.rate_bits(h / step, context, step)
        if cfg.objective == "rate":
            h_hat = (h / step + torch.empty_like(h).uniform_(-0.5, 0.5)) * step
            side = bits
        else:  # the paper's KL to the conditional prior; z sampled with the reparameterisation trick
            mu_p, sigma_p = self.entropy.parameters_for(h.shape, context)
            sigma_q = log_sigma.exp()
            h_hat = h + sigma_q * torch.randn_like(h)
            side = gaussian_kl(h, sigma_q, mu_p, sigma_p).flatten(1).sum(1)
        h_sent = torch.rand(b, device=x.device) >= cfg.h_dropout
        z = prediction + self.compressor.up(h_hat, tuple(x.shape[2:])) * h_sent.view(-1, 1, 1, 1, 1)
        drop = torch.rand(b, len(cfg.modalities), device=x.device) < cfg.modality_dropout
        source, extra = self._source_and_extra(z)
        features = self.features(conditions, context, conditions, h_sent, drop, extra)
        t = torch.rand(b, device=x.device)
        tv = t.view(-1, 1, 1, 1, 1)
        x_t = (1 - tv) * x + tv * source
        flow = F.mse_loss(self.velocity(x_t, t, features), source - x)
        sample = F.mse_loss(self.generate(source, features), x) if cfg.sample_weight else flow.new_zeros(())
        pixels = video.shape[2] * video.shape[3] * video.shape[4]
        sent = h_sent.float()
        per_clip = lambda v: (v * sent).sum() / sent.sum().clamp_min(1)  # noqa: E731  (mean over clips with h)
        weight = cfg.rate_weight / pixels if cfg.objective == "rate" else cfg.beta / h.numel() * b
        z_mse = (z - x).pow(2).flatten(1).mean(1)
        loss = flow + cfg.sample_weight * sample + cfg.recon_weight * per_clip(z_mse) + weight * per_clip(side)
        return {"loss": loss, "flow_mse": flow.detach(), "sample_mse": sample.detach(),
                "bpp_h": (per_clip(bits) / pixels).detach(),
                "z_mse": per_clip(z_mse).detach()}

    def _restorer_losses(self, batch: dict, criterion=None) -> dict[str, torch.Tensor]:
        """L1 (or `criterion`) of the restorer's output on the (frozen) flow's output without h, as the sketch
        method decodes, on the frames that have all their neighbours in the clip (the decoder's case but at a
        clip's two ends)."""
        video, conditions = batch["video"], batch.get("conditions") or {}
        with torch.no_grad():
            generated = self.decode_pixels(None, conditions, conditions)
        half = self.config.restorer_frames // 2 if video.shape[2] > self.config.restorer_frames - 1 else 0
        inner = slice(half, video.shape[2] - half)
        restored, target = self.restore(generated, conditions, inner), video[:, :, inner]
        flow_l1 = (generated[:, :, inner] - target).abs().mean()
        if criterion is not None:
            frames = lambda v: v.transpose(1, 2).flatten(0, 1)  # noqa: E731  (B×3×T×H×W → B·T×3×H×W)
            return {**criterion(frames(restored), frames(target)), "flow_l1": flow_l1}
        loss = (restored - target).abs().mean()
        return {"loss": loss, "restorer_l1": loss.detach(), "flow_l1": flow_l1}

    @torch.no_grad()
    def reconstruct(self, video: torch.Tensor, conditions: dict | None = None, stage: str | None = None,
                    step: float = 1.0) -> torch.Tensor:
        """The codec's round trip on a batch (rounded h, no entropy coding): validation."""
        was_training = self.training
        self.eval()
        try:
            x = self.to_latent(video)
            prediction, context = self.receiver_latents(conditions or {})
            h, _ = self.compressor.down(x, prediction)
            h_hat = self.entropy.quantize(h / step, context, step) * step
            if stage == "restorer":  # as the sketch method decodes: no h
                h_hat = None
            return self.restore(self.decode_pixels(h_hat, conditions or {}, conditions), conditions or {}).clamp(-1, 1)
        finally:
            self.train(was_training)

    # -- codec ---------------------------------------------------------------------------------------------------
    def decode_latent(self, h_hat: torch.Tensor | None, prediction: torch.Tensor, context: torch.Tensor,
                      receiver: dict, modalities: dict | None, steps: int | None = None) -> torch.Tensor:
        b = prediction.shape[0]
        h_sent = torch.full((b,), h_hat is not None, dtype=torch.bool, device=prediction.device)
        z = prediction if h_hat is None else prediction + self.compressor.up(h_hat, tuple(prediction.shape[2:]))
        # a fixed noise seed on the noise path, so both sides (and every run) decode the same frames
        source, extra = self._source_and_extra(z, torch.Generator(device=z.device).manual_seed(0))
        features = self.features(receiver, context, modalities, h_sent, None, extra)
        return self.generate(source, features, steps)

    @torch.no_grad()
    def compress_h(self, video: torch.Tensor, receiver: dict, step: float) -> tuple[bytes, tuple[int, ...]]:
        """The sender's h of one clip (1×3×T×H×W), rANS-coded at quantisation `step`; and its shape."""
        x = self.to_latent(video)
        prediction, context = self.receiver_latents(receiver)
        h, _ = self.compressor.down(x, prediction)
        return self.entropy.compress(h / step, context, step), tuple(h.shape)

    @torch.no_grad()
    def decode(self, receiver: dict, modalities: dict | None = None, h_data: bytes | None = None,
               step: float = 1.0, steps: int | None = None) -> torch.Tensor:
        """The receiver: frames (1×3×T×H×W in [−1, 1]) from its inputs, optional rANS-coded h and conditions."""
        h_hat = None
        if h_data is not None:
            prediction, context = self.receiver_latents(receiver)
            h_shape = self.h_shape(tuple(prediction.shape[2:]))
            h_hat = self.entropy.decompress(h_data, (1, self.config.h_channels, *h_shape), context, step) * step
        return self.restore(self.decode_pixels(h_hat, receiver, modalities, steps), receiver).clamp(-1, 1)

    def decode_pixels(self, h_hat: torch.Tensor | None, receiver: dict, modalities: dict | None,
                      steps: int | None = None) -> torch.Tensor:
        """The flow's output in pixels, before the restorer; P itself where the flow is skipped (a sketch clip
        without h or conditions, see `skips_flow`)."""
        sent = any(name in (modalities or {}) for name in self.config.modalities)
        if self.skips_flow(receiver, h_hat is not None) and not sent:
            return receiver["prediction"]
        prediction, context = self.receiver_latents(receiver)
        return self.from_latent(self.decode_latent(h_hat, prediction, context, receiver, modalities, steps))

    def h_shape(self, latent_shape: tuple[int, int, int]) -> tuple[int, int, int]:
        return tuple(-(-n // s) for n, s in zip(latent_shape, self.config.h_stride))


def _native_bf16(tensor: torch.Tensor) -> bool:
    """Whether inference runs the restorer in bfloat16: on CPUs with native bf16 convolutions it is 2-2.5× faster
    than float32 (measured on the 2-core AMD EPYC with AVX-512 BF16: 3.5 vs 1.8 Mpixel/s) and the restorer is
    trained in it; elsewhere bf16 is emulated and slower, so float32."""
    return tensor.device.type == "cpu" and native_bf16()


def build_model(config: PixelFlowConfig) -> PixelFlowModel:
    return PixelFlowModel(config)

