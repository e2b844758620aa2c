"""Encoder presets (`genvc encode --preset`), as vvenc and x265 have them: how much the encoder's decisions search.
The same decoder reads every preset's streams.

- `slow`: the whole measured search. Every sketch scale from full size is coded at the clip's budget (QP searched
  with vvenc's fast preset, coded with its final one) and judged with the generator on and off, until the quality
  falls twice; the restorer's conditioning is searched over its nine settings; the clips' shares of the bytes are
  measured twice (by frames, and with equal QPs).
- `medium` (default): the scale is predicted from one probe (`genvc.inter.scale_search.predict_scale`) and only it
  and its ladder neighbours are searched, judged on vvenc's fast-preset streams by their upsampled frames; the
  winner alone is coded with the final preset, then the generator (on/off and two conditionings) is decided for it.
- `fast`: the predicted scale alone, the sketch's own conditioning, no fill.

The time and quality of each, against vvenc and against `slow`: `genvc bench --codecs genvc-fast genvc genvc-slow
vvenc` (docs/presets.md).
"""

from __future__ import annotations

from dataclasses import dataclass

#: the QP the fast presets aim a clip's sketch at: the scale predicted for a clip is the one where the byte model
#: puts its QP nearest this (`genvc.inter.scale_search.predict_scale`). Measured on the training sources only, as
#: the median QP the slow preset's choice implies (tools/preset_fit.py, docs/presets.md)
TARGET_QP = 46.5
#: the restorer conditioning codes (`genvc.ladders.told`) medium and fast try: the sketch's own (0) and ×1.5 scale,
#: QP −8 (4), the best of the nine on the streams they were measured on (`genvc.ladders.RESTORER_SCALE_FACTORS`)
OWN_CONDITIONING, MILDER_CONDITIONING = 0, 4


@dataclass(frozen=True)
class Preset:
    name: str
    #: the sketch's scale search: the whole ladder from full size (False), or the predicted scale and its
    #: neighbours (True: `neighbours` each side)
    predicted: bool
    neighbours: int
    #: scales are judged with the generator on and off on the final preset's streams (True), or by their upsampled
    #: frames on the fast search preset's streams (False: only the winner is coded with the final preset)
    judge_generator: bool
    #: the restorer's conditioning: searched over its nine settings (None), or these codes tried
    conditionings: tuple[int, ...] | None
    #: spend what the integer QP step left: finer scale in 1/16 steps, then chroma
    fill: bool
    #: the codec's allocation search: a second whole stream with equal-QP shares, the better kept
    allocation_search: bool


PRESETS: dict[str, Preset] = {
    "slow": Preset("slow", predicted=False, neighbours=0, judge_generator=True,
                   conditionings=None, fill=True, allocation_search=True),
    "medium": Preset("medium", predicted=True, neighbours=1, judge_generator=False,
                     conditionings=(OWN_CONDITIONING, MILDER_CONDITIONING), fill=True, allocation_search=False),
    "fast": Preset("fast", predicted=True, neighbours=0, judge_generator=False,
                   conditionings=(OWN_CONDITIONING,), fill=False, allocation_search=False),
}
DEFAULT_PRESET = "medium"


def get_preset(name: str) -> Preset:
    return PRESETS[name]
