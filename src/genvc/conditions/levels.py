"""Multi-C compression levels (paper Table 1): how much of each condition a clip carries."""

from __future__ import annotations

from dataclasses import dataclass

from genvc.errors import InputError


@dataclass(frozen=True)
class LevelConfig:
    """Level 0 sends keyframes only; levels 1–3 add N Bezier contours, poses above area ξ, a stride-l flow grid."""

    level: int
    num_curves: int  # N: longest contours kept per frame
    min_person_area: float  # ξ: fraction of the frame the joints' bounding box must cover
    flow_stride: int  # l: flow sampling stride in pixels
    bezier_order: int = 8  # n

    @property
    def has_conditions(self) -> bool:
        return self.level > 0


LEVELS = {
    0: LevelConfig(0, num_curves=0, min_person_area=1.0, flow_stride=0),
    1: LevelConfig(1, num_curves=10, min_person_area=1 / 5, flow_stride=128),
    2: LevelConfig(2, num_curves=20, min_person_area=1 / 8, flow_stride=96),
    3: LevelConfig(3, num_curves=30, min_person_area=1 / 10, flow_stride=64),
}


def level_config(level: int) -> LevelConfig:
    if level not in LEVELS:
        raise InputError(f"condition level must be one of {sorted(LEVELS)}, got {level!r}")
    return LEVELS[level]
