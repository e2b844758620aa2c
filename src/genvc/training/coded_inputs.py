"""Training data as the codec uses it: the receiver inputs of a training clip, computed from keyframes that went
through the real intra codec (`data.conditions: genvc.training.coded_inputs:coded_receiver_inputs`).

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
                          qp: int | None = None, full_frames: np.ndarray | None = None,
                          crop_box: tuple[int, int] = (0, 0)) -> dict[str, np.ndarray]:
    """What the receiver has for the training clip `frames`: from its coded sketch where the dataset gives one
    (`data.sketches`, already cut like the clip), else from its first and last frames coded as keyframes. Given
    the clip's whole frames (`full_frames`, with the crop's `crop_box` (top, left) in them), the keyframes are
    coded and interpolated whole, as the codec does, and the result cropped: motion estimated on a small crop
    alone is not the motion the decoder finds."""
    if sketch is not None:
        return receiver.from_sketch(sketch, scale, qp)
    whole = frames if full_frames is None else full_frames
    seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(frames[[0, -1]]).tobytes()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    first, last = (coded_keyframe(whole[i], int(rng.integers(KEYFRAME_CRF[0], KEYFRAME_CRF[1] + 1)))
                   for i in (0, -1))
    return _cropped(receiver.from_keyframes(first, last, len(whole)), frames.shape[1:3], crop_box)


def _cropped(inputs: dict[str, np.ndarray], size: tuple[int, int], crop_box: tuple[int, int]) -> dict[str, np.ndarray]:
    """The image sequences of `inputs` cut to `size` at `crop_box`; per-clip vectors as they are."""
    (top, left), (height, width) = crop_box, size
    return {k: np.ascontiguousarray(v[:, top:top + height, left:left + width]) if v.ndim == 4 else v
            for k, v in inputs.items()}


#: flow-condition grid stride on training crops (pixels): the levels' 64–128 px strides give at most one arrow on a
#: 64-pixel crop, so crops use a proportionally finer grid
CROP_FLOW_STRIDE = 16


def coded_receiver_inputs_with_flow(frames: np.ndarray, **sketch) -> dict[str, np.ndarray]:
    """`coded_receiver_inputs` plus the rendered Multi-C flow condition (for models with modalities=[flow]), all on
    the crop alone: stage 1's cheaper stand-in for `coded_receiver_inputs_with_conditions`."""
    from genvc.conditions.flow import extract_flow, render_flow

    inputs = coded_receiver_inputs(frames, **sketch)
    t, h, w = frames.shape[:3]
    inputs["flow"] = render_flow(extract_flow(frames, CROP_FLOW_STRIDE), h, w, t)
    return inputs


#: the Multi-C modalities the embedded generator is trained with, at the codec's default level. Segmentation is
#: left out: its contours cost more than a whole clip's budget at 0.005–0.02 bpp (level 1: 0.06 bpp on carphone,
#: 0.008 on sports2d at 640×360, 45 frames), so the encoder could never send them.
TRAINED_MODALITIES = ("flow",)
CONDITION_LEVEL = 2


def coded_receiver_inputs_with_conditions(frames: np.ndarray, full_frames: np.ndarray | None = None,
                                          crop_box: tuple[int, int] = (0, 0), **sketch) -> dict[str, np.ndarray]:
    """`coded_receiver_inputs` plus the Multi-C conditions as the decoder renders them: extracted on the clip's
    whole frames at `CONDITION_LEVEL`, entropy-coded and decoded, rendered whole, then cropped like the clip."""
    from genvc import conditions

    inputs = coded_receiver_inputs(frames, full_frames=full_frames, crop_box=crop_box, **sketch)
    whole = frames if full_frames is None else full_frames
    t, h, w = whole.shape[:3]
    extracted = conditions.extract_conditions(whole, CONDITION_LEVEL, modalities=list(TRAINED_MODALITIES))
    decoded = conditions.decode_conditions(conditions.encode_conditions(extracted), t, h, w)
    return {**inputs, **_cropped(conditions.render_conditions(decoded, h, w), frames.shape[1:3], crop_box)}
