"""The generative methods on the embedded pixel-flow generator: FLOW-IB (h), Multi-C (explicit conditions), both.

encode: with the generator on, each *decoded* keyframe is restored by the generator's restorer at the setting that
measures best (`genvc.methods.keyframe_restoration`); the receiver inputs are computed from those keyframes exactly
as the decoder will (`receiver.from_keyframes`); `h = down(x, P)` is rANS-coded at a quantisation step from
`STEPS` (the finest whose bytes fit the clip's side budget; the model's own rate without one); Multi-C conditions
are extracted and coded by `genvc.conditions`. `Section.CONFIG` holds the step, the Euler steps (0: no flow), what
was sent and each keyframe's restoration.
decode: restored keyframes → receiver inputs → (ĥ, rendered conditions) → `PixelFlowModel.decode` → frames,
with the restored keyframes put back at both ends. The clip config's format is `genvc.methods.generative_config`.

Frames are replicate-padded to the model's pixel multiple and cropped after decoding. Models saved by
`genvc train` with the FLOW-IB VAE model (`genvc.models.GenvcModel`, e.g. the Wan preset) are served by
`genvc.methods.vae_latent` instead: `build` picks by the model folder's kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genvc.bitstream.sections import Section
from genvc.errors import FormatError, InputError, ModelError
from genvc.judge import DEFAULT_TUNE
from genvc.methods import keyframe_restoration
from genvc.methods.base import ClipContext, ClipMethod
from genvc.methods.generative_config import DEFAULT_STEP_INDEX, HAS_CONDITIONS, HAS_H, STEPS, ClipConfig
from genvc.ratesearch import finest_fitting

EMBEDDED_DIR = Path(__file__).resolve().parent.parent / "weights" / "pixelflow"
MODEL_HINT = ("leave --model out for the embedded generator, or pass a folder written by `genvc train` (its "
              "output_dir/model) or by `genvc train --export CKPT -o DIR`")


def load_pixelflow(model=None):
    """The embedded generator (model None), a `PixelFlowModel`, or the folder of a saved one."""
    from genvc.models.pixelflow import PixelFlowModel

    if isinstance(model, PixelFlowModel):
        return model.eval()
    folder = Path(model) if model is not None else EMBEDDED_DIR
    if not (folder / "config.json").is_file():
        hint = "the package's embedded model is missing: reinstall genvc" if model is None else MODEL_HINT
        raise ModelError(f"no generator model in {folder}: {hint}")
    return PixelFlowModel.from_pretrained(folder)


def model_kind(model) -> str:
    """"pixelflow" for the embedded generator's family, "flowib-vae" for `GenvcModel` folders/objects."""
    if model is None:
        return "pixelflow"
    if not isinstance(model, (str, Path)):
        from genvc.models.pixelflow import PixelFlowModel

        return "pixelflow" if isinstance(model, PixelFlowModel) else "flowib-vae"
    if not Path(model).is_dir():
        raise ModelError(f"--model {model}: no such model folder; {MODEL_HINT}")
    try:
        kind = json.loads((Path(model) / "config.json").read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        raise ModelError(f"--model {model} is not a genvc model folder (no readable config.json); {MODEL_HINT}") from None
    return "pixelflow" if kind == "pixelflow" else "flowib-vae"


def _video_tensor(frames: np.ndarray, height: int, width: int) -> torch.Tensor:
    """uint8 T×H×W×C → 1×C×T×height×width in [-1, 1], replicate-padded."""
    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)[None].float() / 127.5 - 1.0
    h, w = frames.shape[1:3]
    if (h, w) == (height, width):
        return video
    return F.pad(video, (0, width - w, 0, height - h, 0, 0), mode="replicate")


def receiver_tensors(inputs: dict[str, np.ndarray], height: int, width: int) -> dict[str, torch.Tensor]:
    """`genvc.methods.receiver` inputs as a batch of one: image sequences padded to height×width, vectors as
    they are."""
    converted: dict[int, torch.Tensor] = {}  # by array: a sketch's receiver repeats one array for three inputs
    for value in inputs.values():
        if id(value) not in converted:
            converted[id(value)] = _video_tensor(value, height, width) if value.ndim == 4 else \
                torch.from_numpy(value)[None]
    return {k: converted[id(v)] for k, v in inputs.items()}


#: frames the generator restores at once (plus `WINDOW_HALO` on each side for context) when it restores a whole
#: sketch: memory stays bounded by the window, not the clip (the (2+1)D net sees ±`blocks` frames per step)
WINDOW, WINDOW_HALO = 16, 4


def _to_frames(video: torch.Tensor, height: int, width: int) -> np.ndarray:
    """1×3×T×H'×W' in [-1, 1] → uint8 T×height×width×3 (cropping the padding)."""
    frames = ((video[0, :, :, :height, :width] + 1) * 127.5).round().clamp(0, 255)
    return frames.to(torch.uint8).permute(1, 2, 3, 0).numpy().copy()


def _sketch_halo(model) -> int:
    """The context a window of a sketch needs on each side for its frames to come out as in one whole pass: where
    the flow is skipped (a sketch without h) every frame depends only on the restorer's neighbours (1 frame each
    side: 18 frames restored per 16 instead of 24); the flow reaches further."""
    if model.config.sketch_flow:
        return WINDOW_HALO
    return 0 if model.restorer is None else model.restorer.frames // 2


@torch.no_grad()
def restore_sketch(model, upsampled: np.ndarray, scale: float, qp: int, steps: int | None = None) -> np.ndarray:
    """The generator on a decoded, upsampled sketch (uint8 T×H×W×3) coded at 1/`scale` with `qp`, no h: P = the
    sketch (`receiver.from_sketch`), restored in temporal windows."""
    from genvc.methods.receiver import from_sketch

    t, h, w = upsampled.shape[:3]
    m = model.config.pixel_multiple
    size = (h + (-h) % m, w + (-w) % m)
    out = np.empty_like(upsampled)
    halo = _sketch_halo(model)
    for start in range(0, t, WINDOW):
        lo, hi = max(0, start - halo), min(t, start + WINDOW + halo)
        receiver = receiver_tensors(from_sketch(upsampled[lo:hi], scale, qp), *size)
        restored = _to_frames(model.decode(receiver, steps=steps), h, w)
        stop = min(t, start + WINDOW)
        out[start:stop] = restored[start - lo: stop - lo]
    return out


class PixelFlowMethod(ClipMethod):
    uses_model = True
    sends_h = True
    sends_conditions = False

    def __init__(self, model=None, steps: int | None = None, **_unused):
        self.model = load_pixelflow(model)
        self.steps = steps or self.model.config.sampling_steps
        if not 1 <= self.steps <= 255:
            raise ModelError("sampling steps must be in 1..255")
        if self.sends_conditions and not self.model.config.modalities:
            # The embedded model is trained without rendered conditions so far: Multi-C then sends only its
            # conditions' bytes' worth of nothing; refuse rather than send bytes the generator cannot use.
            raise ModelError(f"method {self.name!r} needs a generator trained with Multi-C modalities "
                             f"(model {self.model.model_id!r} has none); use --method flowib")
        self.model_id = self.model.model_id
        self._hash = self.model.weights_hash()
        self.keyframes = keyframe_restoration.KeyframeRestorer(self.model)

    def weights_hash(self) -> bytes:
        return self._hash

    # -- shapes and receiver inputs ----------------------------------------------------------------------------
    def _padded(self, height: int, width: int) -> tuple[int, int]:
        m = self.model.config.pixel_multiple
        return height + (-height) % m, width + (-width) % m

    def _restored_keyframes(self, ctx: ClipContext, codes: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The clip's decoded keyframes restored as its config says (`keyframe_restoration` codes)."""
        first, last = (keyframe_restoration.restore(self.model, k, c) for k, c in zip((ctx.first, ctx.last), codes))
        return first, last

    def _receiver(self, first: np.ndarray, last: np.ndarray, ctx: ClipContext) -> dict[str, torch.Tensor]:
        from genvc.methods.receiver import from_keyframes

        size = self._padded(ctx.height, ctx.width)
        return receiver_tensors(from_keyframes(first, last, ctx.num_frames), *size)

    def _modalities(self, sections: dict[int, bytes], ctx: ClipContext) -> dict[str, torch.Tensor]:
        from genvc import conditions

        condition_sections = {k: v for k, v in sections.items() if k not in (Section.H, Section.CONFIG)}
        decoded = conditions.decode_conditions(condition_sections, ctx.num_frames, ctx.height, ctx.width)
        rendered = conditions.render_conditions(decoded, ctx.height, ctx.width)
        size = self._padded(ctx.height, ctx.width)
        return {name: _video_tensor(v, *size) for name, v in rendered.items() if name in self.model.config.modalities}

    # -- ClipMethod ------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, frames: np.ndarray, ctx: ClipContext, budget_bytes: int | None) -> dict[int, bytes]:
        if ctx.first is None or ctx.last is None:
            raise InputError(f"method {self.name!r} needs both keyframes of a clip")
        sections: dict[int, bytes] = {}
        flags, step_index = 0, DEFAULT_STEP_INDEX
        if self.sends_conditions and budget_bytes != 0:  # no side bytes at all: the keyframes alone
            from genvc import conditions

            options = ctx.options
            payload = conditions.extract_conditions(frames, options.get("level", 2), options.get("text"),
                                                    modalities=list(self.model.config.modalities))
            sections.update(conditions.encode_conditions(payload, options.get("condition_coding", "entropy")))
            flags |= HAS_CONDITIONS
        generator = ctx.options.get("generator", True)
        codes = (keyframe_restoration.NONE,) * 2
        if generator:
            tune = ctx.options.get("tune", DEFAULT_TUNE)
            codes = (self.keyframes.choose(frames[0], ctx.first, tune),
                     self.keyframes.choose(frames[-1], ctx.last, tune))
        left = None if budget_bytes is None else budget_bytes - sum(len(v) for v in sections.values())
        if self.sends_h and (left is None or left > 0):  # h is coded against what the decoder will predict
            first, last = self._restored_keyframes(ctx, codes)
            receiver = self._receiver(first, last, ctx)
            video = _video_tensor(frames, *self._padded(ctx.height, ctx.width))
            step_index, data = self._fit_h(video, receiver, left)
            sections[Section.H] = data
            flags |= HAS_H
        # no flow ("generator off", or the flow off with the keyframes restored): the decoder returns z = P + up(ĥ)
        # (P itself without h) with no flow steps
        flow = generator and ctx.options.get("flow", True)
        steps = self.steps if flow or self.model.config.path != "reformed" else 0
        sections[Section.CONFIG] = ClipConfig(flags, steps, step_index, codes).pack()
        return sections

    def _fit_h(self, video: torch.Tensor, receiver: dict, budget: int | None) -> tuple[int, bytes]:
        """The finest quantisation step whose h fits `budget` bytes (the model's own rate without a budget); the
        coarsest step where nothing fits."""
        if budget is None:
            return DEFAULT_STEP_INDEX, self.model.compress_h(video, receiver, STEPS[DEFAULT_STEP_INDEX])[0]
        return finest_fitting(len(STEPS), lambda i: self.model.compress_h(video, receiver, STEPS[i])[0], budget)

    @torch.no_grad()
    def decode(self, sections: dict[int, bytes], ctx: ClipContext) -> np.ndarray:
        config = ClipConfig.parse(sections.get(Section.CONFIG))
        flags, steps, step_index, codes = config.flags, config.steps, config.step_index, config.restorations
        if ctx.first is None or ctx.last is None:
            raise FormatError(f"a {self.name} clip needs both keyframes coded")
        if bool(flags & HAS_H) != (Section.H in sections):
            raise FormatError("clip config and h section disagree")
        if any(codes) and not self.keyframes.available:
            raise FormatError("the clip restores its keyframes, but this model has no restorer")
        first, last = self._restored_keyframes(ctx, codes)
        receiver = self._receiver(first, last, ctx)
        modalities = self._modalities(sections, ctx) if flags & HAS_CONDITIONS else None
        if steps == 0 and self.model.config.path != "reformed":
            raise FormatError("generator off is only defined on the reformed path")
        video = self.model.decode(receiver, modalities, sections.get(Section.H), STEPS[step_index], steps)
        out = _to_frames(video, ctx.height, ctx.width)
        out[0], out[-1] = first, last
        return out


class PixelFlowIB(PixelFlowMethod):
    """FLOW-IB: keyframes + the learned code h."""

    name = "flowib"
    #: what the encoder tries (`genvc.codec.search`), keeping the measured best: (share of a clip's bytes for h, the rest
    #: going to the keyframes; generator on: the keyframes restored; the flow on). (0, off, off) is coded as an
    #: `interp` stream: the floor to beat.
    candidates = ((0.0, False, False), (0.0, True, False), (0.0, True, True), (0.15, True, True), (0.3, True, True),
                  (0.5, True, True))


class PixelMultiC(PixelFlowMethod):
    """Multi-C: keyframes + explicit conditions, no h."""

    name = "multic"
    sends_h, sends_conditions = False, True
    #: what the encoder tries, keeping the measured best (as `PixelFlowIB.candidates`): the keyframes alone as an
    #: `interp` stream, the restored keyframes' interpolation, or the conditions with the generator. The conditions'
    #: size is their level's, not a share of the budget: here a share only says whether they are sent (0: not).
    candidates = ((0.0, False, False), (0.0, True, False), (0.1, True, True))


class PixelHybrid(PixelFlowMethod):
    """Both h and the explicit conditions in one clip unit."""

    name = "hybrid"
    sends_conditions = True


def _factory(pixel_cls, legacy_name: str):
    def build(model=None, **kwargs) -> ClipMethod:
        if model_kind(model) == "pixelflow":
            return pixel_cls(model=model, **kwargs)
        from genvc.methods import vae_latent

        return getattr(vae_latent, legacy_name)(model, **{k: v for k, v in kwargs.items() if k == "steps"})

    return build


flowib = _factory(PixelFlowIB, "FlowIBMethod")
multic = _factory(PixelMultiC, "MultiCMethod")
hybrid = _factory(PixelHybrid, "HybridMethod")
