"""A clip's sketch in a byte budget: which scale of the ladder, at which QP, by measurement.

Each scale of `genvc.ladders.SKETCH_SCALES` (full size first) is coded at the budget (the QP searched with the fast
preset by `genvc.ratesearch.search_around`, then coded with the final one, `step_to_fit`) and judged (a
`genvc.judge.Judge`: what the decoder would show) until the quality falls PATIENCE times; the best fills what the
integer QP step left of the budget in 1/16 scale steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genvc.errors import InputError
from genvc.inter.vvc import (
    PRESET, SEARCH_PRESET, UNCODABLE, SketchCode, coded_size, decode_sketch, downsample, encode_or_none, encode_small,
    encode_sketch_at,
)
from genvc.judge import DEFAULT_TUNE, Judge, plain_judge, sample_frames
from genvc.ladders import FLOOR_QP, QP_RANGE, SCALE_UNIT, SKETCH_SCALES
from genvc.presets import PRESETS, TARGET_QP, Preset
from genvc.ratesearch import QP_PER_HALVING, first_true, search_around, step_to_fit

#: the search stops trying coarser scales once this many in a row score below the best so far (quality over
#: scale rose then fell once on every clip × rate we measured: bikes, carphone, cuts, synth-*; see tools/README.md)
PATIENCE = 2
#: a coarser winner that beats full size by less than this (VMAF points; with tune psnr, this many % of MSE) is
#: checked against full size again after both have filled the budget (the fill moves each by up to a QP step).
#: With tune lpips or dists (scores in −1…0) the margin always holds: full size is always filled and judged again
CLOSE = 2.0
#: how a stream's bytes grow with its pixels at a fixed QP, for the next scale's first QP guess (bikes, 45 frames,
#: QP 40, faster: full size 6216 B, 1/2 size 3366 B: a quarter of the pixels, 0.54 of the bytes)
BYTES_PIXEL_EXPONENT = 0.45
#: chroma QP offsets tried, in order, to spend the last few percent of a budget (measured on bikes at QP 32:
#: 0, -2, -4, -8 give +0, +1.4, +3.6, +6.6 % bytes)
CHROMA_OFFSETS = (-2, -4, -8)
#: the final preset's streams are 12-14 % smaller at equal QP (bikes, QP 33-40, full and 1/2 size): about one QP
#: step, so its search starts one QP below the fast search's answer, and where the fast preset cannot reach a
#: budget even at QP 63 the final one is tried there
FINAL_QP_OFFSET, FINAL_SMALLER = 1, 0.14
#: the byte model: QP steps that keep a stream's bytes when its scale doubles (bytes ∝ pixels^BYTES_PIXEL_EXPONENT,
#: QP_PER_HALVING per halving)
QP_PER_SCALE_OCTAVE = QP_PER_HALVING * BYTES_PIXEL_EXPONENT * 2


def _search_qp(small: np.ndarray, budget: int, fps: float, guess: int) -> tuple[int | None, int]:
    """(qp, size) of the best fast-preset QP whose stream fits `budget`; (None, the size at the worst QP) if even
    that overshoots."""
    def size(qp: int) -> int:
        data = encode_or_none(small, qp, fps, SEARCH_PRESET)
        return UNCODABLE if data is None else len(data)

    return search_around(size, budget, guess, QP_RANGE)


def _final(small: np.ndarray, budget: int, fps: float, qp: int) -> SketchCode | None:
    """The final-preset code nearest below `budget`, starting from the fast search's QP less FINAL_QP_OFFSET.
    Measured, not predicted: a QP step is 4-12 % of the bytes (synth-static at full size, QP 40 → 39: +4.2 %), and
    predicting 12 % stopped one QP short."""
    found = step_to_fit(lambda q: encode_or_none(small, q, fps, PRESET), budget, qp - FINAL_QP_OFFSET, QP_RANGE)
    return None if found is None else SketchCode(found[1], 0, found[0])


def _fit(small: np.ndarray, budget: int, fps: float, guess: int = 40) -> SketchCode | None:
    """The best-quality final code that fits `budget` bytes, or None."""
    qp, _ = _search_qp(small, budget, fps, guess)
    return None if qp is None else _final(small, budget, fps, qp)


@dataclass
class Candidate:
    scale: float
    qp: int  # the fast search's QP
    score: float  # the judge's, on the final preset's stream
    code: SketchCode  # that stream


#: the scale the fast presets probe a clip at (cheap to code, and where most low-rate clips land)
PROBE_SCALE = 2


def _first_guess(frames: np.ndarray, budget: int) -> int:
    """The QP search's first guess at full size: QP 40 gave 0.0063 bpp at full size on bikes (45 frames, faster),
    QP_PER_HALVING per halving."""
    t, h, w = frames.shape[:3]
    return int(round(40 - QP_PER_HALVING * np.log2(max(budget * 8 / (t * h * w), 1e-6) / 0.0063)))


def _guess_at(qp: float, scale: float, other: float) -> int:
    """The QP at scale `other` for the bytes QP `qp` gave at `scale`: bytes ∝ pixels^BYTES_PIXEL_EXPONENT,
    QP_PER_HALVING per halving."""
    return int(round(qp - QP_PER_SCALE_OCTAVE * np.log2(other / scale)))


def probe_qp(frames: np.ndarray, budget: int, fps: float) -> float:
    """The QP at which the clip at 1/PROBE_SCALE size fits `budget` with the fast search preset (2-4 cheap encodes);
    past the worst QP, extrapolated along QP_PER_HALVING."""
    small = downsample(frames, PROBE_SCALE)
    qp, size = _search_qp(small, budget, fps, _guess_at(_first_guess(frames, budget), 1, PROBE_SCALE))
    return float(qp) if qp is not None else QP_RANGE[-1] + QP_PER_HALVING * np.log2(size / budget)


def predict_scale(frames: np.ndarray, budget: int, fps: float, ladder: tuple[float, ...] = SKETCH_SCALES) -> float:
    """The ladder scale at which the byte model puts the clip's QP nearest `genvc.presets.TARGET_QP`, from one
    probe (`probe_qp`): a clip that needs a high QP at 1/2 size is predicted coarser, one that fits a low QP finer."""
    return _scale_for(probe_qp(frames, budget, fps), ladder)


def _scale_for(probe: float, ladder: tuple[float, ...]) -> float:
    return _nearest(ladder, np.log2(PROBE_SCALE) + (probe - TARGET_QP) / QP_PER_SCALE_OCTAVE)


def _nearest(ladder: tuple[float, ...], log_scale: float) -> float:
    """The ladder scale nearest 2**log_scale, in octaves."""
    return min(ladder, key=lambda s: abs(np.log2(s) - log_scale))


def crf_setting(crf: float) -> tuple[float, int]:
    """`--crf N`'s sketch scale and QP, the same for every clip (constant quality, no byte target, as a codec's
    CRF): N is the QP the clip would have at full size. Up to TARGET_QP it is coded at full size with QP N; past it,
    at the scale where the byte model (bytes ∝ pixels^BYTES_PIXEL_EXPONENT, QP_PER_HALVING per halving) puts the
    same bytes nearest TARGET_QP: each ladder step down in size takes its share of N off the QP."""
    scale = _nearest(SKETCH_SCALES, max(0.0, (crf - TARGET_QP) / QP_PER_SCALE_OCTAVE))
    return scale, int(min(max(round(crf - QP_PER_SCALE_OCTAVE * np.log2(scale)), QP_RANGE[0]), QP_RANGE[-1]))


def _judge_code(frames: np.ndarray, code: SketchCode, judge: Judge) -> float:
    t, h, w = frames.shape[:3]
    return judge(decode_sketch(code.data, w, h, code.scale, t, only=sample_frames(t)), code.scale, code.qp)


def search_scales(frames: np.ndarray, budget: int, fps: float, judge: Judge,
                  ladder: tuple[float, ...] = SKETCH_SCALES, final: bool = True,
                  guess: int | None = None) -> list[Candidate]:
    """Each scale of `ladder` (finest first) that fits `budget`: its QP found with the fast preset, then coded
    with the final one (`final`; else its fast stream is judged) and judged; stops once PATIENCE scales in a row
    score below the best (quality rises then falls with scale)."""
    guess = _first_guess(frames, budget) if guess is None else guess
    candidates, worse, floors = [], 0, []
    for scale in ladder:
        small = downsample(frames, scale)
        qp, size = _search_qp(small, budget, fps, guess)
        if qp is None and size * (1 - FINAL_SMALLER) <= budget:  # the final preset may still fit
            if len(encode_small(small, QP_RANGE[-1], fps, PRESET)) <= budget:
                qp = QP_RANGE[-1]
        if qp is None:  # even QP 63 overshoots: per-picture headers, which shrink little with the scale
            if floors and floors[-1] - size < size - budget:
                break  # at this pace the next scales cannot reach the budget either
            floors.append(size)
            continue
        # judged on the final preset's stream: the fast one's quality ranks scales differently at low rates
        # (tools/scale_search_check.py: synth-static at 0.0046 bpp, fast picks 1/3, final 1/1.5, 6.1 VMAF apart)
        code = _final(small, budget, fps, qp) if final else SketchCode(encode_small(small, qp, fps, SEARCH_PRESET), 0, qp)
        if code is None:
            continue
        code.scale = scale
        candidates.append(Candidate(scale, qp, _judge_code(frames, code, judge), code))
        worse = worse + 1 if candidates[-1].score < max(c.score for c in candidates) else 0
        if worse >= PATIENCE or qp == QP_RANGE[0]:
            break  # qp 0: finer scales fit losslessly-near, coarser ones cannot do better
        guess = _guess_at(qp, scale, ladder[min(ladder.index(scale) + 1, len(ladder) - 1)])
    return candidates


def encode_sketch(frames: np.ndarray, budget: int, fps: float, scale: float | None = None,
                  judge: Judge | None = None, tune: str = DEFAULT_TUNE,
                  ladder: tuple[float, ...] = SKETCH_SCALES, preset: Preset = PRESETS["slow"]) -> SketchCode:
    """The sketch of `frames` (T×H×W×3 uint8) in at most `budget` bytes.

    Without a fixed `scale`, the scales of `ladder` are searched (`search_scales`) and judged by `judge` (default:
    the tuned metric of the upsampled frames); the best fills the budget in 1/16 scale steps. Close calls against
    full size are settled after both fills. If no scale fits, the coarsest at FLOOR_QP is returned and the caller
    sees the overshoot.
    """
    if budget < 1:
        raise InputError(f"sketch budget must be positive, got {budget} bytes")
    if scale is not None:
        if scale not in SKETCH_SCALES:
            raise InputError(f"sketch scale must be one of {list(SKETCH_SCALES)}, got {scale}")
        fit = _fit(downsample(frames, scale), budget, fps)
        if fit is None:
            return encode_sketch_at(frames, scale, FLOOR_QP, fps)
        fit.scale = scale
        return fit
    judge = judge or plain_judge(frames, tune)
    if preset.predicted:
        return _encode_predicted(frames, budget, fps, judge, ladder, preset)
    candidates = search_scales(frames, budget, fps, judge, ladder)
    if not candidates:
        return encode_sketch_at(frames, ladder[-1], FLOOR_QP, fps)
    best = max(candidates, key=lambda c: c.score)
    code = _finish(frames, best, budget, fps, ladder, judge)
    full = next((c for c in candidates if c.scale == 1), None)
    margin = CLOSE if tune != "psnr" else CLOSE / 100 * abs(full.score if full else 0)
    if full is not None and best is not full and best.score - full.score < margin:
        rival = _finish(frames, full, budget, fps, ladder, judge)
        if _judge_code(frames, rival, judge) > _judge_code(frames, code, judge):
            return rival
    return code


def _encode_predicted(frames: np.ndarray, budget: int, fps: float, judge: Judge, ladder: tuple[float, ...],
                      preset: Preset) -> SketchCode:
    """The fast presets' search: the predicted scale and `preset.neighbours` ladder steps each side, judged on
    their fast-preset streams; the best that the final preset fits is coded with it (and filled, `preset.fill`)."""
    probe = probe_qp(frames, budget, fps)
    predicted = ladder.index(_scale_for(probe, ladder))
    near = ladder[max(0, predicted - preset.neighbours):predicted + preset.neighbours + 1]
    # the probe's QP, moved to the finest scale searched by the byte model, is the QP search's first guess
    candidates = search_scales(frames, budget, fps, judge, near, final=False,
                               guess=_guess_at(min(probe, QP_RANGE[-1]), PROBE_SCALE, near[0]))
    for candidate in sorted(candidates, key=lambda c: -c.score):
        code = _final(downsample(frames, candidate.scale), budget, fps, candidate.qp)
        if code is None:
            continue
        code.scale = candidate.scale
        if not preset.fill or code.scale == 1:  # at full size the fill costs full-size encodes for a QP step
            return code
        return _fill(frames, code, budget, fps, finest=max(s for s in ladder if s < code.scale))
    if candidates or near[-1] == ladder[-1]:
        return encode_sketch_at(frames, ladder[-1], FLOOR_QP, fps)
    return _encode_predicted(frames, budget, fps, judge, ladder[ladder.index(near[-1]) + 1:], preset)


def _finish(frames: np.ndarray, candidate: Candidate, budget: int, fps: float, ladder: tuple[float, ...],
            judge: Judge) -> SketchCode:
    """A candidate's final code, with what the integer QP step left of the budget spent on resolution."""
    code = candidate.code
    finer = [s for s in ladder if s < candidate.scale]
    filled = _fill(frames, code, budget, fps, finest=max(finer) if finer else 1)
    if filled is code or code.scale > 1:  # a finer picture at the same QP
        return filled
    # at full size the fill trades a slightly smaller picture for one QP step: kept only where the judge agrees
    # (synth-static at 0.01 bpp: filled 82.1 VMAF on 3.6 % more bytes than vvenc's 82.5 at full size)
    return filled if _judge_code(frames, filled, judge) > candidate.score else code


def fill_chroma(frames: np.ndarray, code: SketchCode, budget: int, fps: float) -> SketchCode:
    """Spend what is still left of `budget` on chroma: lower chroma QP offsets cost a few percent more bytes each
    (the luma decisions, and so VMAF, stay as they are); only tried when more than 3 % of the budget is unused."""
    best = code
    for offset in CHROMA_OFFSETS:
        if len(best.data) >= 0.97 * budget:
            break
        data = encode_small(downsample(frames, code.scale), code.qp, fps, PRESET, offset)
        if len(data) > budget:
            break
        if len(data) > len(best.data):
            best = SketchCode(data, code.scale, code.qp)
    return best


def _fill(frames: np.ndarray, code: SketchCode, budget: int, fps: float, finest: float) -> SketchCode:
    """Spend what the integer QP step left of the budget: the finest scale (in 1/16 steps, down to `finest`) that
    still fits at the same QP; at full size, where nothing is finer, the full-est scale that fits one QP lower.
    Bytes grow with resolution, so a binary search with the fast preset finds it; the final encode may step back."""
    if code.scale > 1:
        qp, steps = code.qp, [code.scale - k / SCALE_UNIT for k in range(1, int((code.scale - finest) * SCALE_UNIT) + 1)]
    elif code.qp > QP_RANGE[0]:  # at most 1/1.5 smaller: a QP step is not worth more resolution than that
        qp, steps = code.qp - 1, [1 + k / SCALE_UNIT for k in range(SCALE_UNIT // 2, 0, -1)]
    else:
        return code
    height, width = frames.shape[1:3]
    by_size = {}  # padded coded size -> the finest scale giving it: coarser ones with the same size are no cheaper
    for step in steps:
        size = coded_size(width, height, step)
        by_size[size] = min(by_size.get(size, step), step)
    current = coded_size(width, height, code.scale)
    steps = sorted((v for k, v in by_size.items() if k != current or code.scale == 1), reverse=True)

    def overshoots(index: int) -> bool:  # steps run from fewest to most bytes: find the last that fits
        return len(encode_small(downsample(frames, steps[index]), qp, fps, SEARCH_PRESET)) > budget

    best = first_true(len(steps), overshoots) - 1
    for index in range(best, max(-1, best - 2), -1):  # two final encodes at most: the fill is worth a few %
        data = encode_small(downsample(frames, steps[index]), qp, fps, PRESET)
        if len(data) <= budget:
            return SketchCode(data, steps[index], qp) if len(data) > len(code.data) else code
    return code
