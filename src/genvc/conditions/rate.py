"""Rate accounting: the paper's Eq. 1 prediction next to the bytes actually written in both codings.

Eq. 1 counts, per frame, 2 bytes for each of k·21·2 joint coordinates, 2·⌊H/l⌋·⌊W/l⌋ flow components and
2·N·(n+1) control-point coordinates; per clip the condition bytes are T times that. (It counts flow per frame;
a clip has T−1 frame pairs. Text is part of its Q.)
"""

from __future__ import annotations

from dataclasses import dataclass

from genvc.bitstream.sections import Section
from genvc.conditions.bitio import Coding
from genvc.conditions.clip import SECTION_OF, ClipConditions, encode_conditions
from genvc.conditions.flow import grid_shape
from genvc.conditions.levels import level_config
from genvc.conditions.pose import NUM_JOINTS


def eq1_condition_bytes(num_frames: int, height: int, width: int, level: int,
                        people_per_frame: float = 0.0) -> dict[str, float]:
    """Bytes per clip Eq. 1 predicts for each modality (k = `people_per_frame`, the mean people count kept)."""
    config = level_config(level)
    if not config.has_conditions:
        return {"segmentation": 0, "pose": 0, "flow": 0}
    rows, cols = grid_shape(height, width, config.flow_stride)
    return {
        "segmentation": 2 * num_frames * 2 * config.num_curves * (config.bezier_order + 1),
        "pose": 2 * num_frames * people_per_frame * NUM_JOINTS * 2,
        "flow": 2 * num_frames * 2 * rows * cols,
    }


@dataclass
class ModalityBytes:
    bf16: int  # bytes written in the paper's format (numbers + our small header and counts)
    entropy: int  # bytes written quantized + rANS coded
    numbers: int  # numbers actually sent (2 bytes each in Eq. 1's accounting)
    eq1: float | None  # Eq. 1's prediction for the clip; None for text (part of Q)


def condition_bytes_report(cond: ClipConditions) -> dict[str, ModalityBytes]:
    """Per present modality: bytes in both codings, numbers sent, and the Eq. 1 prediction."""
    bf16 = encode_conditions(cond, Coding.BF16)
    entropy = encode_conditions(cond, Coding.ENTROPY)
    people = sum(len(j) for j in cond.pose.joints) / cond.num_frames if cond.pose is not None else 0.0
    eq1 = eq1_condition_bytes(cond.num_frames, cond.height, cond.width, cond.level or 0, people) \
        if cond.level is not None else {}
    report = {}
    for name in cond.present():
        tag = int(SECTION_OF[name])
        numbers = getattr(cond, name).num_numbers if tag != Section.TEXT else 0
        report[name] = ModalityBytes(len(bf16[tag]), len(entropy[tag]), numbers, eq1.get(name))
    return report
