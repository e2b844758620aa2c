"""The clip config of the generative methods (`flowib`, `multic`, `hybrid`): what a clip unit's `Section.CONFIG`
says about its h, conditions, flow and keyframes. No torch here: `genvc info` reads it without loading a model."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from genvc.errors import FormatError
from genvc.methods import keyframe_restoration

#: version, flags, Euler steps (0: no flow), quantisation step index, the first and the last keyframe's restoration
_CONFIG = struct.Struct("<BBBBBB")
_VERSION = 2  # 2: keyframe restoration (version 1 streams, without it, are refused: there is no released stream)
HAS_H, HAS_CONDITIONS = 1, 2
#: quantisation steps of h the encoder may choose (coarser = fewer bytes), a √2 ladder around the model's rate
STEPS = tuple(float(2 ** (k / 2)) for k in range(-2, 9))  # 0.5 … 16
DEFAULT_STEP_INDEX = STEPS.index(1.0)


@dataclass(frozen=True)
class ClipConfig:
    flags: int  # HAS_H | HAS_CONDITIONS
    steps: int  # Euler steps of the flow; 0: none
    step_index: int  # h's quantisation step, an index into STEPS
    restorations: tuple[int, int]  # the first and the last keyframe's `keyframe_restoration` code

    def pack(self) -> bytes:
        return _CONFIG.pack(_VERSION, self.flags, self.steps, self.step_index, *self.restorations)

    @classmethod
    def parse(cls, data: bytes | None) -> "ClipConfig":
        if data is None or len(data) != _CONFIG.size:
            raise FormatError("clip has no valid generator config section")
        version, flags, steps, step_index, *codes = _CONFIG.unpack(data)
        if version != _VERSION or flags & ~(HAS_H | HAS_CONDITIONS) or step_index >= len(STEPS) or \
                not all(map(keyframe_restoration.is_valid, codes)):
            raise FormatError(f"unsupported generator config (version {version}, flags {flags:#x}, "
                              f"step index {step_index}, keyframe restoration {codes})")
        return cls(flags, steps, step_index, tuple(codes))


def describe_config(data: bytes) -> dict:
    """What a generative clip's config says, for `genvc info`; FormatError when it is not one."""
    config = ClipConfig.parse(data)
    ends = [None if c == keyframe_restoration.NONE else dict(zip(("scale", "qp"), keyframe_restoration.setting(c)))
            for c in config.restorations]
    return {"h": bool(config.flags & HAS_H), "conditions": bool(config.flags & HAS_CONDITIONS),
            "flow_steps": config.steps, "h_step": STEPS[config.step_index],
            "restored": {"first": ends[0], "last": ends[1]}}
