"""The encoder's ladders: every scale and QP the encoder may choose or the restorer may be told, in one place.

The searches (`genvc.inter.scale_search`, `genvc.intra.base.encode_to_budget`, `genvc.methods.sketch`,
`genvc.methods.keyframe_restoration`) walk these; which step is used is measured per clip or keyframe, not looked
up. The values are part of the format wherever a stream stores an index into them (the restorer codes).
"""

from __future__ import annotations

# -- the sketch (a clip coded at 1/scale with vvenc)

#: candidate downscale factors, finest first. Full size is always the first candidate: at scale 1 without the
#: generator the sketch is a plain vvenc `medium` stream, so the encoder never does worse than vvenc at that preset by
#: more than its own judging error. Which one is used is measured per clip, not looked up.
SKETCH_SCALES: tuple[float, ...] = (1, 1.5, 2, 3, 4, 6, 8)
#: scales are coded in sixteenths, 1 to MAX_SCALE: between the ladder's steps they fill what an integer QP step
#: leaves of a budget
SCALE_UNIT = 16
MAX_SCALE = SKETCH_SCALES[-1]
#: the sketch's QPs (vvenc's range)
QP_RANGE = range(0, 64)
#: the floor, where no scale fits the budget: the coarsest scale at the worst useful QP. Past QP 56 vvenc's
#: pictures fall apart (bikes at 1/4 size: 31.3 dB at QP 40, 23.1 at 55, 19.7 at 63) while the bytes hardly fall
#: (per-picture headers dominate).
FLOOR_QP = 56

# -- what the restorer is told about a sketch (methods.sketch: one code per clip)

#: relative to the sketch's own scale and QP: more detail lost (a larger scale) and less coding noise (a lower QP)
#: than the sketch has. The encoder measures these per clip and sends the best; code = factor index ·
#: len(offsets) + offset index, 0 = the sketch's own. Measured on 4 streams of the bench (bikes 0.002 and 0.01 bpp,
#: carphone 0.01, synth-zoom 0.005): ×1.5 and QP −8 beat the sketch's own conditioning on VMAF by +0.6 to +2.9,
#: on VMAF NEG by +0.3 to +1.4, on PSNR by −0.4 to +0.1 dB
RESTORER_SCALE_FACTORS = (1.0, 1.5, 2.0)
RESTORER_QP_OFFSETS = (0, -8, -16)

# -- what the restorer is told about a keyframe (methods.keyframe_restoration: one code per keyframe)

#: the scale it is told the detail was lost at, and the QP (the restorer was trained on sketches at scale 1–6,
#: QP 30–52; lower QPs at large scales sharpen less)
KEYFRAME_RESTORER_SCALES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
KEYFRAME_RESTORER_QPS = (16, 24, 32, 40, 48)

# -- keyframes (intra codec)

#: the largest downscale of a keyframe, as a power of two: 1, 1/2, 1/4 size are tried in turn when the codec's
#: lowest quality does not fit the budget
KEYFRAME_MAX_SCALE_LOG2 = 2


def ladder_near(scale: float) -> tuple[float, ...]:
    """The sketch ladder's scales within one step of `scale` (a chosen scale, maybe filled between two steps): where
    a search that already chose `scale` looks again at a nearby budget."""
    below = max(i for i, s in enumerate(SKETCH_SCALES) if s <= scale)
    above = min((i for i, s in enumerate(SKETCH_SCALES) if s >= scale), default=len(SKETCH_SCALES) - 1)
    return SKETCH_SCALES[max(0, below - 1):above + 2]


def told(scale: float, qp: int, conditioning: int) -> tuple[float, int]:
    """The (scale, QP) the restorer is told for a sketch at `scale`, `qp` with conditioning code `conditioning`."""
    factor, offset = divmod(conditioning, len(RESTORER_QP_OFFSETS))
    return scale * RESTORER_SCALE_FACTORS[factor], min(QP_RANGE[-1], max(QP_RANGE[0], qp + RESTORER_QP_OFFSETS[offset]))
