"""The interface between the codec pipeline and a clip method (sketch, interp, flowib, multic, hybrid)."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from genvc.errors import InputError, ModelError
from genvc.judge import DEFAULT_TUNE, TUNES
from genvc.presets import DEFAULT_PRESET, PRESETS
from genvc.utils.registry import LazyRegistry
from genvc.utils.strict import from_dict


#: the largest --crf: the worst QP at the coarsest sketch scale
MAX_CRF = 79


@dataclass(frozen=True)
class MethodOptions:
    """The encoder's per-encode options for the inner-frame methods, typed and checked once, where the encode is set
    up (`MethodOptions.parse`: InputError naming an unknown or invalid option). Each method reads those it uses."""

    level: Literal[0, 1, 2, 3] = 2  # multic/hybrid: the condition level (`genvc.conditions.levels`)
    text: str | None = None  # multic/hybrid: a caption to send
    condition_coding: Literal["entropy", "bf16"] = "entropy"  # multic/hybrid: how conditions are coded
    tune: str = DEFAULT_TUNE  # the metric the encoder's decisions maximise (`genvc.judge.TUNES`)
    preset: str = DEFAULT_PRESET  # how much the encoder's decisions search (`genvc.presets.PRESETS`)
    crf: float | None = None  # sketch without a byte target: constant quality N (`inter.scale_search.crf_setting`)
    side_bytes: int | None = None  # generative methods: per-clip bytes for h/conditions (None: the method's default)
    side_fraction: float | None = None  # or this share of each clip's share of the budget (the encoder's search)
    generator: bool = True  # every method on the generator: run it (False: the receiver's prediction as it is)
    flow: bool = True  # flowib/multic/hybrid with the generator on: run the flow after restoring the keyframes

    def __post_init__(self) -> None:
        if self.tune not in TUNES:
            raise InputError(f"option tune must be one of {', '.join(TUNES)}, got {self.tune!r}")
        if self.crf is not None and not 0 <= self.crf <= MAX_CRF:
            raise InputError(f"option crf must be in [0, {MAX_CRF}], got {self.crf}")
        if self.preset not in PRESETS:
            raise InputError(f"option preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        if self.side_bytes is not None and self.side_bytes < 0:
            raise InputError(f"option side_bytes must be >= 0, got {self.side_bytes}")
        if self.side_fraction is not None and not 0 <= self.side_fraction < 1:
            raise InputError(f"option side_fraction must be in [0, 1), got {self.side_fraction}")

    @classmethod
    def parse(cls, options: "MethodOptions | dict | None") -> "MethodOptions":
        if isinstance(options, MethodOptions):
            return options
        return from_dict(cls, dict(options or {}), "method option")

    def get(self, key: str, default=None):
        """dict-style reading, for methods that read options by name: the value, or `default` where it is None."""
        value = getattr(self, key)
        return default if value is None else value


@dataclass
class ClipContext:
    """What both sides know about a clip. `first`/`last` are the *decoded* keyframes (uint8 H×W×3), so the
    encoder conditions on exactly what the decoder will have; None for a keyframe the clip derives itself
    (methods with `derives_keyframes`)."""

    first: np.ndarray | None
    last: np.ndarray | None
    num_frames: int
    fps: float
    options: MethodOptions = field(default_factory=MethodOptions)  # a dict is parsed into one
    height: int = 0  # frame size; taken from the keyframes when not given
    width: int = 0
    #: encoder only: the sketch scale an earlier encode of this clip chose (the allocation search's second encode
    #: searches near it)
    scale_hint: float | None = None

    def __post_init__(self) -> None:
        self.options = MethodOptions.parse(self.options)
        known = self.first if self.first is not None else self.last
        if not (self.height and self.width):
            if known is None:
                raise ValueError("a clip context needs a keyframe or the frame size")
            self.height, self.width = known.shape[:2]


class ClipMethod(abc.ABC):
    """Codes the frames of one clip given its decoded keyframes.

    `encode` returns tagged sections (see `genvc.bitstream.sections`) to store in the clip unit; `decode` turns
    them back into all `num_frames` frames of the clip, keyframes included (uint8, T×H×W×3).
    """

    name: str
    method_id: int  # set by `get_method` from the registry (`genvc.methods`), where each id is declared
    #: model id and weights hash written into the stream header; methods without weights use "none".
    model_id: str = "none"

    #: whether the method writes sections (False: only keyframes are sent for its clips)
    uses_bits: bool = True
    #: whether decoding depends on weights (then the stream's model id and hash must match ours)
    uses_model: bool = False
    #: whether the clip's sections carry its keyframes too (they are then sent as empty "derived" units)
    derives_keyframes: bool = False

    # -- the encoder's searches (`genvc.codec.search`) over whole streams, at a byte target

    #: settings the candidate search codes whole and compares by the tuned metric, keeping the best: (share of the
    #: budget for side sections, generator on, flow on). Empty: the method is coded as configured
    candidates: tuple[tuple[float, bool, bool], ...] = ()
    #: whether the allocation search applies: the method reports each coded clip's QP and scale (`clip_qp`,
    #: `clip_scale`) and searches near a scale hint (`ClipContext.scale_hint`)
    allocation_search: bool = False

    def clip_qp(self, sections: dict[int, bytes]) -> int:
        """The QP a coded clip landed at: the allocation search moves bytes so that clips meet at one QP."""
        raise NotImplementedError(f"method {self.name!r} has no allocation search")

    def clip_scale(self, sections: dict[int, bytes]) -> float:
        """The scale a coded clip landed at: the allocation search's second encode searches near it."""
        raise NotImplementedError(f"method {self.name!r} has no allocation search")

    def weights_hash(self) -> bytes:
        return bytes(8)

    def check_stream(self, model_id: str, weights_hash: bytes) -> None:
        """Refuse a stream that was coded with another model: decoding it would give garbage silently."""
        if self.uses_model and (model_id, weights_hash) != (self.model_id, self.weights_hash()):
            raise ModelError(
                f"stream was coded with model {model_id!r} (weights {weights_hash.hex()}), but the loaded model "
                f"is {self.model_id!r} (weights {self.weights_hash().hex()}); pass the right one with --model"
            )

    @abc.abstractmethod
    def encode(self, frames: np.ndarray, ctx: ClipContext, budget_bytes: int | None) -> dict[int, bytes]:
        """One clip's sections in at most `budget_bytes` (framing excluded; None: the method's default rate). The
        codec decides how the clips share the bytes (`genvc.codec.encoder`)."""

    @abc.abstractmethod
    def decode(self, sections: dict[int, bytes], ctx: ClipContext) -> np.ndarray:
        ...


#: name -> (the one-byte id written into clip units, "module:Class or factory"); filled in `genvc.methods`, imported
#: lazily so `genvc info` never loads torch models
METHODS = LazyRegistry("method", id_attribute="method_id")


def method_names() -> list[str]:
    return METHODS.names()


def method_name_for_id(method_id: int) -> str | None:
    return METHODS.name_for_id(method_id)


def get_method(name: str, **kwargs) -> ClipMethod:
    return METHODS.build(name, **kwargs)
