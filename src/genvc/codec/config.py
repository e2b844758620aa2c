"""What an encode is asked for (`EncodeConfig`) and what it wrote (`EncodeResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from genvc.errors import InputError
from genvc.methods.base import MethodOptions


@dataclass
class EncodeConfig:
    method: str = "sketch"
    bpp: float | None = None  # target for the whole file; None: keyframe_bytes or the codec's default quality
    keyframe_bytes: int | None = None
    interval: int = 45
    intra: str = "av1"
    shot_detection: bool = True
    model: str | None = None  # model folder for learned methods; None: the embedded default
    method_options: MethodOptions = field(default_factory=MethodOptions)  # a dict, e.g. {"level": 2}, is parsed
    progress: bool = False
    workers: int | None = 1  # local processes coding clips (1: this process; None: the cores memory allows)
    ray: str | None | bool = False  # False: local; None: a local Ray instance; "auto" / "HOST:PORT": a cluster
    #: relative byte shares of the clip units, in clip order (None: by frames); the allocation search
    #: (`genvc.codec.search`) sets them for the streams it compares
    clip_weights: tuple[float, ...] | None = None
    #: clip index -> the sketch scale an earlier encode chose for it (the allocation search's second encode)
    clip_scales: dict[int, float] | None = None

    def __post_init__(self) -> None:
        self.method_options = MethodOptions.parse(self.method_options)  # InputError on an unknown/invalid option

    def validate(self) -> None:
        if self.bpp is not None and self.keyframe_bytes is not None:
            raise InputError("give either a target bpp or keyframe bytes, not both")
        if self.method_options.crf is not None and (self.bpp is not None or self.method != "sketch"):
            raise InputError("--crf is the sketch's constant-quality mode: no --bpp with it, and --method sketch")
        if self.bpp is not None and not 0 < self.bpp <= 24:
            raise InputError(f"bpp must be in (0, 24], got {self.bpp}")
        if self.keyframe_bytes is not None and self.keyframe_bytes < 16:
            raise InputError(f"keyframe bytes must be at least 16, got {self.keyframe_bytes}")
        if self.interval < 1:
            raise InputError(f"interval must be at least 1 frame, got {self.interval}")
        if self.workers is not None and self.workers < 1:
            raise InputError(f"workers must be at least 1, got {self.workers}")



def target_bytes(bpp: float, width: int, height: int, num_frames: int) -> float:
    """The whole file's bytes at `bpp` (header and framing included)."""
    return bpp * width * height * num_frames / 8


@dataclass
class EncodeResult:
    path: str
    num_bytes: int
    num_frames: int
    width: int
    height: int

    @property
    def bpp(self) -> float:
        return self.num_bytes * 8 / (self.num_frames * self.width * self.height)
