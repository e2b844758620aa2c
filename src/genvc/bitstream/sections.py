"""Tags of the sections inside a clip unit. A clip may carry any subset; unknown tags are refused."""

from enum import IntEnum


class Section(IntEnum):
    H = 1  # FLOW-IB code h (entropy coded or bf16)
    SEGMENTATION = 2  # Bezier contours
    POSE = 3  # 2D joints
    FLOW = 4  # sparse optical-flow grid
    TEXT = 5  # caption (UTF-8)
    CONFIG = 6  # per-clip method settings (level, steps, ...) the decoder needs
    SKETCH = 7  # low-resolution VVC inter stream of the clip (the small preset's code)
