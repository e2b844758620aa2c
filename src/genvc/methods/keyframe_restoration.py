"""The generator's restorer on the decoded keyframes of `flowib`/`multic`/`hybrid` clips, before interpolation.

A keyframe coded at these rates has lost detail much as a sketch has, and everything the receiver predicts between
two keyframes is warped from them. The sketch's restorer (`SketchRestorer`) is conditioned on how much detail
its input lost (1/scale) and how much coding noise it carries (QP); a keyframe has neither, so the encoder tries
the restorer's conditioning ladder on each keyframe against the original and sends the best one in one byte per
keyframe (0: the keyframe as decoded, when nothing beats it). The judge is the tuned metric on the keyframe alone
(`genvc.judge.score`): it ranks settings about as the whole interpolated clip does (measured on carphone
at 0.01 bpp over 25 settings: the keyframes' best gave the clip 56.0 VMAF, the clip's best 57.3, the keyframes as
decoded 47.5), and costs one restorer pass per setting instead of a clip decode.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from genvc.judge import DEFAULT_TUNE, score
from genvc.ladders import KEYFRAME_RESTORER_QPS as QPS
from genvc.ladders import KEYFRAME_RESTORER_SCALES as SCALES
from genvc.utils.digest import content_key

#: the QP the scale search runs at, before the QP search at the best scale: the interpolated clip's VMAF with it
#: is within 1.1 of the best QP's at scales 2–6 on carphone (0.01 bpp) and the held-out sports2d (640×360, 0.005)
SEARCH_QP = 24
NONE = 0  # the code of a keyframe used as decoded
_CHOICES_KEPT = 16


def setting(code: int) -> tuple[float, int]:
    """(scale, QP) of a nonzero restoration code."""
    index = code - 1
    return SCALES[index // len(QPS)], QPS[index % len(QPS)]


def code_of(scale: float, qp: int) -> int:
    return 1 + SCALES.index(scale) * len(QPS) + QPS.index(qp)


def is_valid(code: int) -> bool:
    return 0 <= code <= len(SCALES) * len(QPS)


def restore(model, keyframe: np.ndarray, code: int) -> np.ndarray:
    """The keyframe (uint8 H×W×3) restored with the setting `code` (itself for `NONE`)."""
    if code == NONE:
        return keyframe
    import torch  # here, not above: the clip config (`generative_config`) reads the codes without torch

    from genvc.models.pixelflow.config import SKETCH_QP_KEY, SOURCE_KEY

    scale, qp = setting(code)
    video = torch.from_numpy(np.ascontiguousarray(keyframe)).permute(2, 0, 1)[None, :, None].float() / 127.5 - 1
    receiver = {SOURCE_KEY: torch.tensor([[1.0, 1.0 / scale]]), SKETCH_QP_KEY: torch.tensor([[qp / 63]])}
    with torch.no_grad():
        restored = model.restore(video, receiver).clamp(-1, 1)  # a lone frame: its neighbours are itself
    return ((restored[0, :, 0] + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy().copy()


class KeyframeRestorer:
    """Chooses and applies the restoration of keyframes for one model; remembers its choices, since the keyframe
    between two clips is chosen for both."""

    def __init__(self, model) -> None:
        self.model = model
        self._choices: OrderedDict[bytes, int] = OrderedDict()

    @property
    def available(self) -> bool:
        return self.model.restorer is not None

    def choose(self, original: np.ndarray, decoded: np.ndarray, tune: str = DEFAULT_TUNE) -> int:
        """The code whose restoration of `decoded` measures closest to `original`: the best scale at `SEARCH_QP`,
        then the best QP at that scale (10 restorer passes of the 30 settings), or `NONE`."""
        if not self.available:
            return NONE
        key = content_key(("keyframe", tune), original, decoded)
        if key not in self._choices:
            judge = self._judge(original, tune)
            scores = {NONE: judge(decoded)}
            for scale in SCALES:
                code = code_of(scale, SEARCH_QP)
                scores[code] = judge(restore(self.model, decoded, code))
            best_scale = setting(max((c for c in scores if c != NONE), key=scores.get))[0]
            for qp in QPS:
                code = code_of(best_scale, qp)
                if code not in scores:
                    scores[code] = judge(restore(self.model, decoded, code))
            self._choices[key] = max(scores, key=lambda c: (scores[c], c == NONE))  # ties: as decoded
            while len(self._choices) > _CHOICES_KEPT:
                self._choices.popitem(last=False)
        return self._choices[key]

    @staticmethod
    def _judge(original: np.ndarray, tune: str):
        # VMAF of a still: the frame three times (its motion feature is then zero for both)
        reference = np.stack([original] * 3)
        return lambda frame: score(reference, np.stack([frame] * 3), tune)
