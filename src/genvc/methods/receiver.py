"""What the receiver has for a clip before any side information, in the generator's terms (`RECEIVER_INPUTS`).

Two kinds of prediction P, computed identically by the encoder, the decoder and the training data:
- `from_keyframes`: motion-compensated interpolation of the two decoded keyframes, both keyframes warped to every
  frame, and the forward/backward occlusion map (`genvc.methods.interp.receiver_inputs`);
- `from_sketch`: the decoded, upsampled sketch. It is already a whole clip, so it also stands in for the warped
  keyframes, and nothing is occluded.
`source` ([is sketch, 1/scale]) tells the generator which one it got and how much detail the sketch lost; a
sketch also gives its QP (`SKETCH_QP_KEY`), how much coding noise it carries.
"""

from __future__ import annotations

import numpy as np

from genvc.methods.interp import receiver_inputs
from genvc.models.pixelflow.config import DEFAULT_SKETCH_QP, SKETCH_QP_KEY, SOURCE_KEY


def source_code(scale: float | None) -> np.ndarray:
    """The generator's `source` input: [0, 1] for keyframe interpolation, [1, 1/scale] for a sketch."""
    return np.array([0.0, 1.0] if scale is None else [1.0, 1.0 / scale], np.float32)


def from_keyframes(first: np.ndarray, last: np.ndarray, num_frames: int) -> dict[str, np.ndarray]:
    # the sketch's QP plane too (unused where P is no sketch: the value the generator assumes when it is absent),
    # so that both receivers have the same keys and a training batch can mix them
    return {**receiver_inputs(first, last, num_frames), SOURCE_KEY: source_code(None),
            SKETCH_QP_KEY: np.array([DEFAULT_SKETCH_QP / 63], np.float32)}


def from_sketch(upsampled: np.ndarray, scale: float, qp: int) -> dict[str, np.ndarray]:
    """`upsampled`: the decoded sketch at full size (uint8 T×H×W×3), coded at 1/`scale` with `qp`."""
    return {"prediction": upsampled, "anchor_first": upsampled, "anchor_last": upsampled,
            "occlusion": np.zeros_like(upsampled), SOURCE_KEY: source_code(scale),
            SKETCH_QP_KEY: np.array([qp / 63], np.float32)}
