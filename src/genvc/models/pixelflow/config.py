"""`PixelFlowConfig`: the small preset's generator, on an exactly invertible pixel latent (config.json of a saved
model)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from genvc.errors import ModelError
from genvc.models.config import EntropyConfig, _build

#: what the receiver computes from the decoded keyframes before any side information (see
#: `genvc.methods.interp.receiver_inputs`): the motion-compensated prediction, both keyframes warped to each frame,
#: and the forward/backward consistency (occlusion) map.
RECEIVER_INPUTS = ("prediction", "anchor_first", "anchor_last", "occlusion")
#: optional receiver input (B×2): where P comes from, [is the upsampled sketch, 1/sketch scale]; absent = keyframe
#: interpolation ([0, 1]). See `genvc.methods.receiver`.
SOURCE_KEY = "source"
#: explicit Multi-C conditions the generator can take, each rendered to an image sequence
MODALITIES = ("segmentation", "pose", "flow")
#: optional receiver input (B×1) of a sketch P: its QP / 63, how much coding noise it carries (the restorer's input;
#: absent: `DEFAULT_SKETCH_QP`)
SKETCH_QP_KEY = "sketch_qp"
DEFAULT_SKETCH_QP = 40


@dataclass
class PixelFlowConfig:
    """One generator for every method. Sizes are in pixels unless said otherwise.

    - latent: `unshuffle`×`unshuffle` pixel-unshuffle of each frame (exactly invertible: no VAE caps quality).
    - h: the compressor's down half over (x, P) at `h_strides` (t, h, w; applied to the latent) with `h_channels`
      channels; default (1,2,2)·(2,2,2)·(2,2,2) on a 4× latent = one h vector per 4 frames × 32×32 pixels.
    - generator: `blocks` (2+1)D residual blocks of `width` channels; flows from z = P + up(ĥ) to x in
      `sampling_steps` Euler steps (reformed path) or from noise with z on channels (`path="noise"`, ablation).
    - prior: `"conditional"` predicts h's Gaussian from what the receiver has (P), `"standard"` is factorised.
    - objective: `"rate"` = flow MSE + `recon_weight`·MSE(z, x) + `rate_weight`·bits per pixel of the quantised h
      (default); `"kl"` = the paper's flow MSE + `beta`·KL(q‖p) with a Gaussian posterior (+ the same MSE(z, x)).
      Both add `sample_weight`·MSE of the `sampling_steps`-step Euler sampler's output: train as used.
    """

    name: str = "genvc-pixelflow"
    unshuffle: int = 4
    width: int = 48
    blocks: int = 3
    compressor_width: int = 48
    h_channels: int = 8
    h_strides: tuple[tuple[int, int, int], ...] = ((1, 2, 2), (2, 2, 2), (2, 2, 2))
    sampling_steps: int = 2
    path: str = "reformed"
    prior: str = "conditional"
    objective: str = "rate"
    rate_weight: float = 0.5
    beta: float = 1e-4
    #: weight of MSE(z, x) for clips with h: the reformed flow's source itself should be close to x (the paper's
    #: equivalence of its objective to MSE(z, x)); a direct signal for the compressor early in training
    recon_weight: float = 1.0
    #: weight of MSE(decoded, x), the few-step sampler unrolled with gradients. Flow matching alone trains the
    #: velocity on straight-path points the few-step sampler never visits: measured on the held-out sports2d
    #: (13-frame 128² clips, the 1,023-step run without it), 4 Euler steps took P from 25.4 to 21.8 dB PSNR
    sample_weight: float = 1.0
    #: training draws the quantisation step of h log-uniformly from this range; the encoder picks one per clip
    #: (a rate knob with one model)
    step_range: tuple[float, float] = (0.5, 4.0)
    modalities: tuple[str, ...] = ()
    modality_dropout: float = 0.3
    #: probability that a training clip has no h (the role embedding says so): one model also serves Multi-C
    h_dropout: float = 0.3
    entropy: EntropyConfig = field(default_factory=lambda: EntropyConfig(context="keyframes"))
    #: the sketch's restorer (`SketchRestorer`) after the flow, where P is a sketch; width 0: none. The flow's 4×4
    #: latent did not learn to add detail to sketches in 1,000 steps (held-out sports2d: −2 to −4 VMAF), so the
    #: sketch gets its own net: per frame with `restorer_frames` neighbours, at 1/2 and 1/4 size
    restorer_width: int = 0
    restorer_blocks: int = 6
    restorer_outer_blocks: int = 2
    restorer_frames: int = 3
    #: whether clips whose P is a sketch (and no h) go through the flow before the restorer. Off in the embedded
    #: model: on held-out sports2d the 1,000-step flow cost the sketch 2–4 VMAF (restorer or not)
    sketch_flow: bool = True

    def __post_init__(self) -> None:
        choices = {"path": ("reformed", "noise"), "prior": ("conditional", "standard"), "objective": ("rate", "kl")}
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ModelError(f"config {key}={getattr(self, key)!r}; expected one of {allowed}")
        unknown = set(self.modalities) - set(MODALITIES)
        if unknown:
            raise ModelError(f"unknown modalities {sorted(unknown)}; expected some of {MODALITIES}")
        if self.sampling_steps < 1 or self.unshuffle < 1 or self.blocks < 0:
            raise ModelError("sampling_steps and unshuffle must be >= 1, blocks >= 0")
        if self.restorer_width and (self.restorer_frames < 1 or self.restorer_frames % 2 == 0):
            raise ModelError(f"restorer_frames must be odd (a frame and its neighbours), got {self.restorer_frames}")
        if self.entropy.coding != "entropy":
            raise ModelError("the pixel-flow generator codes h with rANS only (entropy.coding='entropy')")
        lo, hi = self.step_range
        if not 0 < lo <= hi:
            raise ModelError(f"step_range must be 0 < min <= max, got {self.step_range}")
        self.entropy = dataclasses.replace(self.entropy, context="keyframes" if self.prior == "conditional" else "none")

    @property
    def h_stride(self) -> tuple[int, int, int]:
        """h's total stride in latent units (t, h, w)."""
        t = h = w = 1
        for st, sh, sw in self.h_strides:
            t, h, w = t * st, h * sh, w * sw
        return t, h, w

    @property
    def pixel_multiple(self) -> int:
        """Frame sides are padded to a multiple of this."""
        return self.unshuffle * max(self.h_stride[1], self.h_stride[2])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PixelFlowConfig":
        try:
            data = dict(data)
            if "entropy" in data:
                data["entropy"] = _build(EntropyConfig, data["entropy"])
            return _build(cls, data)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"invalid pixel-flow config: {exc}") from exc
