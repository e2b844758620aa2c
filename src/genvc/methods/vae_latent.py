"""Generative inner-frame methods on a `GenvcModel`: FLOW-IB (h), Multi-C (explicit conditions) and both.

encode: frames -> VAE latent -> compressor.down -> h -> entropy-coded (or bf16) bytes in `Section.H`, plus a
`Section.CONFIG` with the shapes and settings the decoder needs. decode: parse -> compressor.up -> mu_q -> Euler
steps of the generator conditioned on the decoded keyframes' latent -> VAE decode -> frames, with the decoded
keyframes put back at both ends. Clips whose frame count is not 4k+1 are padded by repeating the last frame, sides
that are not multiples of the model's pixel stride are replicate-padded; both are cropped after decoding.

Multi-C conditions come through `genvc.conditions` (extract -> tagged sections -> parse -> render); the level
(default 2), caption and coding ("entropy" or the paper's "bf16") come from the clip context's options. Without h
(method "multic") the code z is the prior mean, i.e. the keyframe-only latent: the receiver's best guess of z
without any transmitted h.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genvc.bitstream.sections import Section
from genvc.errors import FormatError, ModelError
from genvc.methods.base import ClipContext, ClipMethod

_CONFIG = struct.Struct("<BBBBHHH")  # version, flags, steps, reserved, latent T', H', W'
_VERSION = 1
_HAS_H, _BF16 = 1, 2


MODEL_HINT = ("pass --model DIR, a model folder written by `genvc train` (its output_dir/model) or by "
              "`genvc train --export CKPT -o DIR`")


def load_model(model):
    """A `GenvcModel`, or a folder saved with `save_pretrained`."""
    from genvc.models import GenvcModel

    if isinstance(model, GenvcModel):
        return model.eval()
    if not isinstance(model, (str, Path)):
        raise ModelError(f"the flowib, multic and hybrid methods need a trained model: {MODEL_HINT}")
    if not Path(model).is_dir():
        raise ModelError(f"--model {model}: no such model folder; {MODEL_HINT}")
    try:
        return GenvcModel.from_pretrained(model)
    except ModelError as exc:
        raise ModelError(f"{exc}; {MODEL_HINT}") from None


def _to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 T x H x W x 3 -> float 1 x 3 x T x H x W in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)[None].float() / 127.5 - 1.0


def _to_frames(video: torch.Tensor) -> np.ndarray:
    return ((video[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 3, 0).cpu().numpy()


class GenerativeClipMethod(ClipMethod):
    uses_model = True  # a stream coded with other weights is refused (see ClipMethod.check_stream)
    uses_h = True
    uses_conditions = False

    def __init__(self, model, steps: int | None = None):
        self.model = load_model(model)
        self.steps = steps or self.model.config.sampling_steps
        if not 1 <= self.steps <= 255:
            raise ModelError("sampling steps must be in 1..255")
        if self.uses_conditions and not self.model.config.modalities:
            raise ModelError(f"method {self.name!r} needs a model trained with modalities")
        self.model_id = self.model.model_id
        self._hash = None
        patch = self.model.generator.transformer.config.patch_size
        self.pixel_multiple = self.model.vae.spatial_factor * max(patch[1], patch[2])

    def weights_hash(self) -> bytes:
        if self._hash is None:
            self._hash = self.model.weights_hash()
        return self._hash

    # -- shapes ----------------------------------------------------------------------------------------------------
    def _padded_size(self, num_frames: int, height: int, width: int) -> tuple[int, int, int]:
        m = self.pixel_multiple
        return num_frames + (-(num_frames - 1)) % 4, height + (-height) % m, width + (-width) % m

    def _pad(self, video: torch.Tensor, size: tuple[int, int, int]) -> torch.Tensor:
        t, h, w = video.shape[2:]
        video = torch.cat([video] + [video[:, :, -1:]] * (size[0] - t), dim=2)
        return F.pad(video, (0, size[2] - w, 0, size[1] - h, 0, 0), mode="replicate") if (h, w) != size[1:] else video

    def _keyframes(self, ctx: ClipContext, size: tuple[int, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        keyframes = self._pad(_to_tensor(np.stack([ctx.first, ctx.last])), (2, *size[1:])).to(self.model.device)
        return keyframes[:, :, 0], keyframes[:, :, 1]

    def _condition(self, ctx: ClipContext, size: tuple[int, int, int]) -> torch.Tensor:
        return self.model.condition_latent(*self._keyframes(ctx, size), size[0])

    # -- ClipMethod --------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, frames: np.ndarray, ctx: ClipContext, budget_bytes: int | None) -> dict[int, bytes]:
        num_frames, height, width = frames.shape[:3]
        size = self._padded_size(num_frames, height, width)
        condition = self._condition(ctx, size)
        latent_shape = tuple(condition.shape[2:])
        sections: dict[int, bytes] = {}
        flags = 0
        if self.uses_h:
            video = self._pad(_to_tensor(frames), size).to(self.model.device)
            sections[Section.H] = self.model.compress_h(self.model.encode_latent(video), condition)
            flags |= _HAS_H | (_BF16 if self.model.entropy is None else 0)
        if self.uses_conditions:
            from genvc import conditions

            options = ctx.options
            payload = conditions.extract_conditions(frames, options.level, options.text,
                                                    modalities=list(self.model.config.modalities))
            sections.update(conditions.encode_conditions(payload, options.condition_coding))
        sections[Section.CONFIG] = _CONFIG.pack(_VERSION, flags, self.steps, 0, *latent_shape)
        return sections

    @torch.no_grad()
    def decode(self, sections: dict[int, bytes], ctx: ClipContext) -> np.ndarray:
        height, width = ctx.first.shape[:2]
        size = self._padded_size(ctx.num_frames, height, width)
        version, flags, steps, _, *latent_shape = self._parse_config(sections)
        condition = self._condition(ctx, size)
        if tuple(latent_shape) != tuple(condition.shape[2:]):
            raise FormatError(f"clip config says latent {tuple(latent_shape)}, the clip needs {tuple(condition.shape[2:])}")
        if flags & _HAS_H:
            if Section.H not in sections:
                raise FormatError("clip config announces h but the clip has no h section")
            if bool(flags & _BF16) != (self.model.entropy is None):
                raise FormatError("h coding mode in the stream does not match the model")
            h = self.model.decompress_h(sections[Section.H], tuple(latent_shape), condition)
            z = self.model.compressor.up(h, tuple(latent_shape))[0]
        else:
            z = condition  # the prior mean: no transmitted information beyond the keyframes
        modality_latents = text_embeds = None
        if self.uses_conditions:
            from genvc import conditions

            condition_sections = {k: v for k, v in sections.items() if k not in (Section.H, Section.CONFIG)}
            decoded = conditions.decode_conditions(condition_sections, ctx.num_frames, height, width)
            rendered = conditions.render_conditions(decoded, height, width)
            device = self.model.device
            modality_latents = self.model.modality_latents(
                {name: self._pad(_to_tensor(v), size).to(device) for name, v in rendered.items()})
            if decoded.text and self.model.generator.text_encoder_source:  # a sent caption, encoded with umT5
                text_embeds = self.model.text_embeddings([decoded.text])
        image_embeds = self.model.image_embeddings(*self._keyframes(ctx, size))  # FLF2V CLIP tokens, else None
        video = self.model.generate(z, condition, size[0], modality_latents, steps=steps, image_embeds=image_embeds,
                                    text_embeds=text_embeds)
        out = _to_frames(video[:, :, : ctx.num_frames, :height, :width])
        out[0], out[-1] = ctx.first, ctx.last
        return out

    @staticmethod
    def _parse_config(sections: dict[int, bytes]):
        data = sections.get(Section.CONFIG)
        if data is None or len(data) != _CONFIG.size:
            raise FormatError("clip has no valid generative-method config section")
        fields = _CONFIG.unpack(data)
        if fields[0] != _VERSION:
            raise FormatError(f"unsupported generative-method config version {fields[0]}")
        if not 1 <= fields[2] <= 255 or fields[1] & ~(_HAS_H | _BF16):
            raise FormatError("invalid generative-method config section")
        return fields


class FlowIBMethod(GenerativeClipMethod):
    """FLOW-IB: keyframes + the learned code h."""

    name = "flowib"


class MultiCMethod(GenerativeClipMethod):
    """Multi-C: keyframes + explicit conditions (segmentation, pose, flow) rendered and VAE-encoded; no h."""

    name = "multic"
    uses_h = False
    uses_conditions = True


class HybridMethod(GenerativeClipMethod):
    """Both: h and the explicit conditions in one clip unit."""

    name = "hybrid"
    uses_conditions = True
