"""The small preset: a low-resolution inter-coded sketch of each clip, restored at full size by the generator.

encode: every clip's frames, keyframes included, → `genvc.inter.encode_sketch` (scale and QP searched to the
clip's share of the byte budget; candidate scales judged by what the decoder would show, generator on or off) →
`Section.SKETCH`; `Section.CONFIG` holds the scale and, per end of the clip, whether the sketch frame or a coded
keyframe is used there, and whether the generator runs (the encoder checks that it brings the clip closer to the
original, by VMAF or, with tune "psnr", by MSE). The clip's keyframes are the sketch's
own pictures (its first is an intra picture), so the stream sends them as empty "derived" keyframe units; only
keyframes of 1- and 2-frame clips are coded as images.
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
from genvc.inter import LADDER, decode_sketch, encode_sketch, encode_sketch_at, ladder_near
from genvc.inter.sketch import SCALE_UNIT, fill_chroma, plain_judge, sample_frames
from genvc.judge import score
from genvc.methods.base import ClipContext, ClipMethod
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
#: what the restorer is told, relative to the sketch's own scale and QP: more detail lost (a larger scale) and less
#: coding noise (a lower QP) than the sketch has. The encoder measures these per clip and sends the best
#: (`SketchMethod.conditioning`); code = factor index · len(offsets) + offset index, 0 = the sketch's own. Measured
#: on 4 streams of the bench (bikes 0.002 and 0.01 bpp, carphone 0.01, synth-zoom 0.005): ×1.5 and QP −8 beat the
#: sketch's own conditioning on VMAF by +0.6 to +2.9, on VMAF NEG by +0.3 to +1.4, on PSNR by −0.4 to +0.1 dB
RESTORER_SCALE_FACTORS = (1.0, 1.5, 2.0)
RESTORER_QP_OFFSETS = (0, -8, -16)
_CONDITIONINGS = len(RESTORER_SCALE_FACTORS) * len(RESTORER_QP_OFFSETS)


def told(scale: float, qp: int, conditioning: int) -> tuple[float, int]:
    """The (scale, QP) the restorer is told for a sketch at `scale`, `qp` with conditioning code `conditioning`."""
    factor, offset = divmod(conditioning, len(RESTORER_QP_OFFSETS))
    return scale * RESTORER_SCALE_FACTORS[factor], min(63, max(0, qp + RESTORER_QP_OFFSETS[offset]))


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

    @staticmethod
    def clip_qp(sections: dict[int, bytes]) -> int:
        """The QP a coded clip's sketch landed at: the encoder's allocation search (`genvc.codec`) compares clips
        by it."""
        return describe_config(sections[Section.CONFIG])["qp"]

    @staticmethod
    def clip_scale(sections: dict[int, bytes]) -> float:
        """The scale a coded clip's sketch landed at (the allocation search's second encode searches near it)."""
        return describe_config(sections[Section.CONFIG])["scale"]

    def encode(self, frames: np.ndarray, ctx: ClipContext, budget_bytes: int | None) -> dict[int, bytes]:
        if budget_bytes is None:
            return self._sections(encode_sketch_at(frames, DEFAULT_SCALE, DEFAULT_QP, ctx.fps), frames, ctx)
        return self.encode_clips([(frames, ctx)], budget_bytes)[0]

    def encode_clips(self, clips: list[tuple[np.ndarray, ClipContext]], budget_bytes: int) -> list[dict[int, bytes]]:
        # Each clip gets its frames' share and passes on what it leaves over. Measured on bikes at 0.002 bpp (a
        # 30- and a 15-frame clip), this keeps VMAF 27.0 where one QP for both clips gave 10.5: the metrics
        # average over frames, so frames, not clips, should share the bytes.
        if not clips:  # e.g. a 1- or 2-frame video: every keyframe is coded as an image, no clip unit
            return []
        budget = budget_bytes - _SECTION_FRAMING * len(clips)
        fps = clips[0][1].fps
        tune = _tune(clips[0][1])
        judge = self.judge if _generator_allowed(clips[0][1]) else plain_judge
        codes, frames_left = [], sum(len(frames) for frames, _ in clips)
        for frames, ctx in clips:
            ladder = LADDER if ctx.scale_hint is None else ladder_near(ctx.scale_hint)
            codes.append(encode_sketch(frames, max(1, int(budget * len(frames) / frames_left)), fps,
                                       judge=judge(frames, tune), tune=tune, ladder=ladder))
            budget -= len(codes[-1].data)
            frames_left -= len(frames)
        if len(clips) > 1 and budget > 0.02 * budget_bytes:  # what the last clip left: recode the longest clip
            longest = max(range(len(clips)), key=lambda i: len(clips[i][0]))
            # at the scale already chosen for it (the fill may still go finer): no second scale search
            chosen = max(s for s in LADDER if s <= codes[longest].scale)
            recoded = encode_sketch(clips[longest][0], len(codes[longest].data) + budget, fps,
                                    judge=judge(clips[longest][0], tune), tune=tune, ladder=(chosen,))
            if len(recoded.data) > len(codes[longest].data):
                budget -= len(recoded.data) - len(codes[longest].data)
                codes[longest] = recoded
        if budget > 0:  # still left: the last clip's chroma
            codes[-1] = fill_chroma(clips[-1][0], codes[-1], len(codes[-1].data) + budget, fps)
        return [self._sections(code, frames, ctx) for code, (frames, ctx) in zip(codes, clips)]

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
                     tune: str) -> tuple[int, float]:
        """The restorer's conditioning (a code of `told`) that measures best on the judged frames, and its score: the
        scale factor first (at QP −8), then the QP offset at that factor; at most 5 restorer passes besides the
        sketch's own conditioning, which the scale search has judged already."""
        def judged(code: int) -> float:
            return self.scores(original, decoded, sample, *told(scale, qp, code), tune)[1]

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
            conditioning, on = self.conditioning(frames[sample], plain[sample], sample, code.scale, code.qp, tune)
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
