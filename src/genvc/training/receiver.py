"""Training data as the codec uses it: the receiver inputs of a training clip, computed from keyframes that went
through the real intra codec (`data.conditions: genvc.training.receiver:coded_receiver_inputs`).

Each clip's first and last frames are coded with AV1 intra at a quality drawn from `KEYFRAME_CRF` and decoded,
then `genvc.methods.receiver` computes what the decoder would have; where the dataset gives the clip's coded
sketch (`data.sketches`), P is that sketch instead. The draw is seeded by the
clip's pixels, so a resumed run sees the same data.
"""

from __future__ import annotations

import hashlib

import numpy as np

from genvc.intra import get_codec
from genvc.intra.base import decode_keyframe, prepare
from genvc.methods import receiver

#: libaom crf range drawn for training keyframes: on 128×128 photo crops crf 35 → 0.49 bpp (32.6 dB), crf 63 →
#: 0.06 bpp (21.4 dB) (measured on skimage's astronaut), spanning what keyframes get at 0.002–0.02 bpp per clip
KEYFRAME_CRF = (35, 63)


def coded_keyframe(image: np.ndarray, crf: int) -> np.ndarray:
    codec = get_codec("av1")
    h, w = image.shape[:2]
    return decode_keyframe(codec, codec.encode(prepare(image, 0), crf), w, h, 0)


def coded_receiver_inputs(frames: np.ndarray, sketch: np.ndarray | None = None, scale: float | None = None,
                          qp: int | None = None) -> dict[str, np.ndarray]:
    """What the receiver has for the training clip `frames`: from its coded sketch where the dataset gives one
    (`data.sketches`), else from its first and last frames coded as keyframes."""
    if sketch is not None:
        return receiver.from_sketch(sketch, scale, qp)
    seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(frames[[0, -1]]).tobytes()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    first, last = (coded_keyframe(frames[i], int(rng.integers(KEYFRAME_CRF[0], KEYFRAME_CRF[1] + 1)))
                   for i in (0, -1))
    return receiver.from_keyframes(first, last, len(frames))


#: flow-condition grid stride on training crops (pixels): the levels' 64–128 px strides give at most one arrow on a
#: 64-pixel crop, so crops use a proportionally finer grid
CROP_FLOW_STRIDE = 16


def coded_receiver_inputs_with_flow(frames: np.ndarray, **sketch) -> dict[str, np.ndarray]:
    """`coded_receiver_inputs` plus the rendered Multi-C flow condition (for models with modalities=[flow])."""
    from genvc.conditions.flow import extract_flow, render_flow

    inputs = coded_receiver_inputs(frames, **sketch)
    t, h, w = frames.shape[:3]
    inputs["flow"] = render_flow(extract_flow(frames, CROP_FLOW_STRIDE), h, w, t)
    return inputs
