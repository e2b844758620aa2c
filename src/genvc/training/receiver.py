"""Training data as the codec uses it: the receiver inputs of a training clip, computed from keyframes that went
through the real intra codec (`data.conditions: genvc.training.receiver:coded_receiver_inputs`).

Each clip's first and last frames are coded with AV1 intra at a quality drawn from `KEYFRAME_CRF` and decoded,
then `genvc.methods.interp.receiver_inputs` computes what the decoder would have. The draw is seeded by the
clip's pixels, so a resumed run sees the same data.
"""

from __future__ import annotations

import hashlib

import numpy as np

from genvc.intra import get_codec
from genvc.intra.base import decode_keyframe, prepare
from genvc.methods.interp import receiver_inputs

#: libaom crf range drawn for training keyframes: on 128×128 photo crops crf 35 → 0.49 bpp (32.6 dB), crf 63 →
#: 0.06 bpp (21.4 dB) (measured on skimage's astronaut), spanning what keyframes get at 0.002–0.02 bpp per clip
KEYFRAME_CRF = (35, 63)


def coded_keyframe(image: np.ndarray, crf: int) -> np.ndarray:
    codec = get_codec("av1")
    h, w = image.shape[:2]
    return decode_keyframe(codec, codec.encode(prepare(image, 0), crf), w, h, 0)


def coded_receiver_inputs(frames: np.ndarray) -> dict[str, np.ndarray]:
    seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(frames[[0, -1]]).tobytes()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    first, last = (coded_keyframe(frames[i], int(rng.integers(KEYFRAME_CRF[0], KEYFRAME_CRF[1] + 1)))
                   for i in (0, -1))
    return receiver_inputs(first, last, len(frames))
