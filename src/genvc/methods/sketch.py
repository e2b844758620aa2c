"""The small preset: a low-resolution inter-coded sketch of each clip, restored at full size by the generator.

encode: a clip's frames, keyframes included, → `genvc.inter.encode_sketch` (scale and QP searched to the byte
budget the codec gives the clip; candidate scales judged by what the decoder would show, generator on or off) →
`Section.SKETCH`; `Section.CONFIG` holds the scale and QP, per end of the clip whether the sketch frame or a coded
keyframe is used there, whether the generator runs (the encoder checks that it brings the clip closer to the
original by the tuned metric) and what the restorer is told (`genvc.ladders.told`). The clip's keyframes are the
sketch's own pictures (its first is an intra picture), so the stream sends them as empty "derived" keyframe units;
only keyframes of 1- and 2-frame clips are coded as images.
decode: sketch → upsample → the embedded generator (`PixelFlowModel` with P = the sketch, no h; the same weights
as flowib/multic/hybrid) → frames.

Why not h and full-size keyframes: on two CPU cores, measurement (tools/README.md) says a downscaled VVC inter
stream carries motion and texture at ≤ 0.005 bpp far better than a CPU-trained compressor, and full-size
keyframes cost more than they give at these rates.
"""

from __future__ import annotations

import struct
from collections import OrderedDict

import numpy as np

from genvc.bitstream.sections import Section
from genvc.errors import FormatError
from genvc.inter import decode_sketch, encode_sketch, encode_sketch_at, fill_chroma
from genvc.inter.scale_search import crf_setting
from genvc.judge import plain_judge, sample_frames, score
from genvc.ladders import (
    RESTORER_QP_OFFSETS, RESTORER_SCALE_FACTORS, SCALE_UNIT, SKETCH_SCALES, ladder_near, told,
)
from genvc.methods.base import ClipContext, ClipMethod
from genvc.presets import get_preset
from genvc.utils.digest import content_key

#: version, scale in sixteenths, flags, QP (an input of the generator's restorer), the restorer's conditioning
_CONFIG = struct.Struct("<BBBBB")
_OLD_CONFIG = struct.Struct("<BBBB")  # versions 1 and 2: no conditioning byte (the sketch's own)
_VERSION = 3  # 3: the restorer's conditioning; 2: parameter sets deflated (genvc.inter.paramsets); 1: as they are
_FIRST_FROM_SKETCH, _LAST_FROM_SKETCH, _REFINED = 1, 2, 4  # _REFINED: the generator restores the sketch
_SECTION_FRAMING = 2 * (1 + 4) + _CONFIG.size  # two sections: tag and length varint each, and the config
#: judged candidates remembered per method instance: a clip's search judges at most a dozen
_SCORES_KEPT = 64
#: without a target rate (--keyframe-bytes mode): the sketch's scale and QP
DEFAULT_SCALE, DEFAULT_QP = 2, 45
_CONDITIONINGS = len(RESTORER_SCALE_FACTORS) * len(RESTORER_QP_OFFSETS)


def _unpack_config(config: bytes) -> tuple[int, int, int, int, int]:
    """(version, scale in sixteenths, flags, QP, conditioning) of a sketch config; FormatError if it is none."""
    if len(config) == _OLD_CONFIG.size:
        fields = (*_OLD_CONFIG.unpack(config), 0)
        if fields[0] < 3:
            return fields
    elif len(config) == _CONFIG.size:
        fields = _CONFIG.unpack(config)
        if fields[0] == 3 and fields[4] < _CONDITIONINGS:
            return fields
    raise FormatError("not a sketch config section of a known version")


def describe_config(config: bytes) -> dict:
    """What a clip's `Section.CONFIG` says, for `genvc info`: sketch scale and QP, generator on/off, and where each
    end of the clip comes from. Raises FormatError when it is not a sketch config."""
    _, scale, flags, qp, conditioning = _unpack_config(config)
    told_scale, told_qp = told(scale / SCALE_UNIT, qp, conditioning)
    return {"scale": scale / SCALE_UNIT, "qp": qp, "generator": bool(flags & _REFINED),
            "told": {"scale": told_scale, "qp": told_qp},
            "first": "sketch" if flags & _FIRST_FROM_SKETCH else "keyframe",
            "last": "sketch" if flags & _LAST_FROM_SKETCH else "keyframe"}


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))


def _generator_allowed(ctx: ClipContext) -> bool:
    """`generator=False` keeps the generator off everywhere (the ablation "generator off")."""
    return ctx.options.generator


def _tune(ctx: ClipContext) -> str:
    return ctx.options.tune  # checked against `genvc.judge.TUNES` when the options were parsed


class SketchMethod(ClipMethod):
    name = "sketch"
    uses_model = True
    derives_keyframes = True
    allocation_search = True

    def __init__(self, model=None, steps: int | None = None, **_unused) -> None:
        from genvc.methods.generative import load_pixelflow

        self.model = load_pixelflow(model)
        self.steps = steps or self.model.config.sampling_steps
        self.model_id = self.model.model_id
        self._hash = self.model.weights_hash()
        self._scores: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    def restore(self, upsampled: np.ndarray, scale: float, qp: int) -> np.ndarray:
        """The generator on a whole clip's upsampled sketch."""
        from genvc.methods.generative import restore_sketch

        return restore_sketch(self.model, upsampled, scale, qp, self.steps)

    def restore_sample(self, upsampled: np.ndarray, indices: list[int], scale: float, qp: int) -> np.ndarray:
        """The generator on the judged frames of a clip (`upsampled` = its frames `indices`, runs of neighbours from
        `sample_frames`), run by run: each run is restored as the short clip it is."""
        runs = np.split(np.arange(len(indices)), np.flatnonzero(np.diff(indices) != 1) + 1)
        return np.concatenate([self.restore(upsampled[run], scale, qp) for run in runs])

    def weights_hash(self) -> bytes:
        return self._hash

    def clip_qp(self, sections: dict[int, bytes]) -> int:
        return describe_config(sections[Section.CONFIG])["qp"]

    def clip_scale(self, sections: dict[int, bytes]) -> float:
        return describe_config(sections[Section.CONFIG])["scale"]

    def encode(self, frames: np.ndarray, ctx: ClipContext, budget_bytes: int | None) -> dict[int, bytes]:
        if budget_bytes is None:  # constant quality: --crf's rule, or the default scale and QP
            crf = ctx.options.crf
            scale, qp = (DEFAULT_SCALE, DEFAULT_QP) if crf is None else crf_setting(crf)
            return self._sections(encode_sketch_at(frames, scale, qp, ctx.fps), frames, ctx)
        budget = budget_bytes - _SECTION_FRAMING
        tune, preset = _tune(ctx), get_preset(ctx.options.preset)
        # the fast presets judge scales by their upsampled frames and decide the generator for the winner alone
        judge = self.judge if _generator_allowed(ctx) and preset.judge_generator else plain_judge
        ladder = SKETCH_SCALES if ctx.scale_hint is None else ladder_near(ctx.scale_hint)
        code = encode_sketch(frames, max(1, budget), ctx.fps, judge=judge(frames, tune), tune=tune, ladder=ladder,
                             preset=preset)
        if preset.fill and budget > len(code.data):  # what the integer QP and scale steps left: chroma
            code = fill_chroma(frames, code, budget, ctx.fps)
        return self._sections(code, frames, ctx)

    def judge(self, frames: np.ndarray, tune: str):
        """The scale search's judge: a candidate scores what the decoder would make of it, the generator on or off,
        whichever is better (full size included: the generator also removes coding artifacts)."""
        sample = sample_frames(len(frames))
        original = frames[sample]
        return lambda decoded, scale, qp: max(self.scores(original, decoded, sample, scale, qp, tune))

    def scores(self, original: np.ndarray, decoded: np.ndarray, sample: list[int], scale: float, qp: int,
               tune: str) -> tuple[float, float]:
        """(generator off, generator on) by the tuned metric of a candidate's judged frames. Remembered: the chosen
        candidate was judged in the search, and its generator switch is decided on these same numbers (the restorer
        is the search's largest cost: bikes 45 frames, 0.005 bpp: 90 of 239 s)."""
        return (self._remembered(("off", tune), original, decoded, lambda: score(original, decoded, tune)),
                self._remembered(("on", sample, scale, qp, tune), original, decoded,
                                 lambda: score(original, self.restore_sample(decoded, sample, scale, qp), tune)))

    def _remembered(self, settings: tuple, original: np.ndarray, decoded: np.ndarray, compute) -> float:
        key = content_key(settings, original, decoded)
        if key not in self._scores:
            self._scores[key] = compute()
            while len(self._scores) > _SCORES_KEPT:
                self._scores.popitem(last=False)
        return self._scores[key]

    def conditioning(self, original: np.ndarray, decoded: np.ndarray, sample: list[int], scale: float, qp: int,
                     tune: str, codes: tuple[int, ...] | None = None) -> tuple[int, float]:
        """The restorer's conditioning (a code of `told`) that measures best on the judged frames, and its score: of
        `codes` (a preset's fixed list), or searched: the scale factor first (at QP −8), then the QP offset at that
        factor; at most 5 restorer passes besides the sketch's own conditioning, which the scale search has judged
        already."""
        def judged(code: int) -> float:
            return self.scores(original, decoded, sample, *told(scale, qp, code), tune)[1]

        if codes is not None:
            results = {code: judged(code) for code in codes}
            best = max(results, key=lambda c: (results[c], -c))
            return best, results[best]
        offsets = len(RESTORER_QP_OFFSETS)
        results = {0: judged(0)}
        middle = RESTORER_QP_OFFSETS.index(-8)
        for factor in range(len(RESTORER_SCALE_FACTORS)):
            results[factor * offsets + middle] = judged(factor * offsets + middle)
        best_factor = max(results, key=lambda c: (results[c], -c)) // offsets
        for offset in range(offsets):
            code = best_factor * offsets + offset
            if code not in results:
                results[code] = judged(code)
        best = max(results, key=lambda c: (results[c], -c))  # ties: the sketch's own, then the milder
        return best, results[best]

    def _sections(self, code, frames: np.ndarray, ctx: ClipContext) -> dict[int, bytes]:
        t, h, w = frames.shape[:3]
        tune = _tune(ctx)
        plain = decode_sketch(code.data, w, h, code.scale, t)
        # The generator runs where it brings the clip closer to the original by the tuned metric, judged on the
        # frames the scale search judges.
        sample = sample_frames(t)
        flags, conditioning = 0, 0
        if _generator_allowed(ctx):
            off = self.scores(frames[sample], plain[sample], sample, code.scale, code.qp, tune)[0]
            conditioning, on = self.conditioning(frames[sample], plain[sample], sample, code.scale, code.qp, tune,
                                                 get_preset(ctx.options.preset).conditionings)
            if on > off:
                flags = _REFINED
            else:
                conditioning = 0
        ends = plain[[0, t - 1]]
        if flags & _REFINED and (ctx.first is not None or ctx.last is not None):  # only then is there a choice
            ends = self.restore_sample(ends, [0, t - 1], *told(code.scale, code.qp, conditioning))
        if ctx.first is None or _mse(ends[0], frames[0]) <= _mse(ctx.first, frames[0]):
            flags |= _FIRST_FROM_SKETCH
        if ctx.last is None or _mse(ends[1], frames[-1]) <= _mse(ctx.last, frames[-1]):
            flags |= _LAST_FROM_SKETCH
        scale = round(code.scale * SCALE_UNIT)
        return {Section.CONFIG: _CONFIG.pack(_VERSION, scale, flags, code.qp, conditioning), Section.SKETCH: code.data}

    def decode(self, sections: dict[int, bytes], ctx: ClipContext) -> np.ndarray:
        config, data = sections.get(Section.CONFIG), sections.get(Section.SKETCH)
        if config is None or data is None or len(sections) != 2:
            raise FormatError("a sketch clip has exactly a config and a sketch section")
        version, scale, flags, qp, conditioning = _unpack_config(config)
        scale /= SCALE_UNIT
        if flags & ~(_FIRST_FROM_SKETCH | _LAST_FROM_SKETCH | _REFINED):
            raise FormatError(f"unsupported sketch config (version {version}, flags {flags:#x})")
        if (ctx.first is None and not flags & _FIRST_FROM_SKETCH) or (ctx.last is None and not flags & _LAST_FROM_SKETCH):
            raise FormatError("sketch clip asks for a keyframe the stream does not code")
        frames = decode_sketch(data, ctx.width, ctx.height, scale, ctx.num_frames, packed=version >= 2)
        if flags & _REFINED:
            frames = self.restore(frames, *told(scale, qp, conditioning))
        if not flags & _FIRST_FROM_SKETCH:
            frames[0] = ctx.first
        if not flags & _LAST_FROM_SKETCH:
            frames[-1] = ctx.last
        return frames
