"""Code a clip's frames at 1/s of their size with vvenc (10-bit, QP search to a byte budget) and decode them back.

Only decoder-needed NAL units are kept, the leading parameter sets deflated against a dictionary
(`genvc.inter.paramsets`), so the bytes counted are the bytes a decoder needs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from genvc.errors import FormatError, InputError
from genvc.inter import paramsets
from genvc.intra import elementary
from genvc.ratesearch import first_true
from genvc.ffmpeg import decode_to_rgb, raw_rgb_input, run
from genvc.judge import DEFAULT_TUNE, score
from genvc.utils.digest import content_key

#: candidate downscale factors, finest first. Full size is always the first candidate: at scale 1 without the
#: generator the sketch is a plain vvenc `medium` stream, so the encoder never does worse than vvenc at that preset by
#: more than its own judging error. Which one is used is measured per clip (`encode_sketch`), not looked up.
LADDER: tuple[float, ...] = (1, 1.5, 2, 3, 4, 6, 8)
#: the search stops trying coarser scales once this many in a row score below the best so far (quality over
#: scale rose then fell once on every clip × rate we measured: bikes, carphone, cuts, synth-*; see tools/README.md)
PATIENCE = 2
#: a coarser winner that beats full size by less than this (VMAF points; with tune psnr, this many % of MSE) is
#: checked against full size again after both have filled the budget (the fill moves each by up to a QP step).
#: With tune lpips or dists (scores in −1…0) the margin always holds: full size is always filled and judged again
CLOSE = 2.0
#: the floor, where no scale fits the budget: the coarsest scale at the worst useful QP. Past QP 56 vvenc's
#: pictures fall apart (bikes at 1/4 size: 31.3 dB at QP 40, 23.1 at 55, 19.7 at 63) while the bytes hardly fall
#: (per-picture headers dominate).
FLOOR_QP = 56
#: QP steps that halve a stream's size, the QP search's first guess of the slope (vvenc, bikes and carphone at
#: 1/1-1/4 size, QP 30-50: 5-7)
QP_PER_HALVING = 6.0
#: how a stream's bytes grow with its pixels at a fixed QP, for the next scale's first QP guess (bikes, 45 frames,
#: QP 40, faster: full size 6216 B, 1/2 size 3366 B: a quarter of the pixels, 0.54 of the bytes)
BYTES_PIXEL_EXPONENT = 0.45
QP_RANGE = range(0, 64)
#: scales are coded in sixteenths, 1 to MAX_SCALE: between the ladder's steps they fill what an integer QP step
#: leaves of a budget
SCALE_UNIT = 16
MAX_SCALE = LADDER[-1]
#: chroma QP offsets tried, in order, to spend the last few percent of a budget (measured on bikes at QP 32:
#: 0, -2, -4, -8 give +0, +1.4, +3.6, +6.6 % bytes)
CHROMA_OFFSETS = (-2, -4, -8)
# The QP and scale searches run the fast preset; the final encode the better one (at equal QP: +0.5 dB for +0.4 %
# bytes on bigbuckbunny at 1/2 size; bikes 45 frames full size: 1.3 s vs 3.4 s, 14 % more bytes at QP 40).
SEARCH_PRESET, PRESET = "faster", "medium"
#: the final preset's streams are 12-14 % smaller at equal QP (bikes, QP 33-40, full and 1/2 size): about one QP
#: step, so its search starts one QP below the fast search's answer, and where the fast preset cannot reach a
#: budget even at QP 63 the final one is tried there
FINAL_QP_OFFSET, FINAL_SMALLER = 1, 0.14
BLOCK = 8  # coded sizes are padded to whole 8×8 blocks (4:2:0 and vvenc's minimum CU), cropped on decode
MIN_CODED = 32  # and to at least 32×32: vvenc fails on a 16×16 picture


#: scores a candidate: (its decoded frames at `sample_frames`, upsampled to full size; its scale; its QP) -> higher
#: is better
Judge = Callable[[np.ndarray, float, int], float]


@dataclass
class SketchCode:
    data: bytes  # VVC NAL units, varint-length framed
    scale: float  # a multiple of 1/SCALE_UNIT in [1, MAX_SCALE]
    qp: int


def check_scale(scale: float) -> None:
    if not 1 <= scale <= MAX_SCALE or scale * SCALE_UNIT != int(scale * SCALE_UNIT):
        raise FormatError(f"sketch scale {scale} is not a multiple of 1/{SCALE_UNIT} in [1, {MAX_SCALE}]")


def sketch_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The coded (unpadded) size of a width×height frame at 1/scale."""
    return max(BLOCK, round(width / scale)), max(BLOCK, round(height / scale))


def _padded(size: int) -> int:
    return max(MIN_CODED, size + (-size % BLOCK))


def downsample(frames: np.ndarray, scale: float) -> np.ndarray:
    """Area-downsample to 1/scale and edge-pad to whole blocks."""
    h, w = frames.shape[1:3]
    sw, sh = sketch_size(w, h, scale)
    small = frames if scale == 1 else np.stack([cv2.resize(f, (sw, sh), interpolation=cv2.INTER_AREA) for f in frames])
    return np.pad(small, ((0, 0), (0, _padded(sh) - sh), (0, _padded(sw) - sw), (0, 0)), mode="edge")


def upsample(frames: np.ndarray, width: int, height: int, scale: float) -> np.ndarray:
    """Crop the padding and Lanczos-upsample back to width×height."""
    sw, sh = sketch_size(width, height, scale)
    frames = frames[:, :sh, :sw]
    if scale == 1:
        return np.ascontiguousarray(frames)
    return np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_LANCZOS4) for f in frames])


class _StreamMemo:
    """The streams this process has coded, by their exact input and settings. The searches ask for the same
    stream again (the encoder's allocation search codes a clip twice with budgets a few QP apart; the close call
    against full size refills both candidates), and vvenc is deterministic, so a remembered stream is the
    stream. Bounded by bytes, oldest out first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.bytes = max_bytes, 0
        self.streams: OrderedDict[bytes, bytes] = OrderedDict()

    def get(self, key: bytes, code: Callable[[], bytes]) -> bytes:
        if key in self.streams:
            self.streams.move_to_end(key)
            return self.streams[key]
        data = self.streams[key] = code()
        self.bytes += len(data)
        while self.bytes > self.max_bytes:
            self.bytes -= len(self.streams.popitem(last=False)[1])
        return data


_MEMO = _StreamMemo(max_bytes=32 << 20)


def _encode(small: np.ndarray, qp: int, fps: float, preset: str = PRESET, chroma_offset: int = 0) -> bytes:
    """The sketch payload of `small` at `qp`."""
    key = content_key((small.shape, qp, round(fps, 6), preset, chroma_offset), small)
    return _MEMO.get(key, lambda: paramsets.pack(vvenc_annexb(small, qp, fps, preset, chroma_offset)))


def vvenc_annexb(small: np.ndarray, qp: int, fps: float, preset: str = PRESET, chroma_offset: int = 0) -> bytes:
    """vvenc's own output for `small` (T×H×W×3 uint8, whole 8×8 blocks) with the sketch's settings."""
    t, h, w = small.shape[:3]
    seconds = max(1, int(np.ceil(t / max(fps, 1e-3))) + 1)  # one intra period covers the clip
    args = [*raw_rgb_input(w, h, max(fps, 1e-3)), "-pix_fmt", "yuv420p10le", "-c:v", "libvvenc",
            "-preset", preset, "-qp", str(qp), "-qpa", "0", "-period", str(seconds),
            "-vvenc-params", f"CbQpOffset={chroma_offset}:CrQpOffset={chroma_offset}",
            "-f", "vvc", "pipe:1"]
    try:
        annexb = run(args, small.tobytes(), "sketch encoding")
    except InputError:  # vvenc's worker threads crashed once in ~500 bench encodes: retry single-threaded
        annexb = run(args[:-3] + ["-threads", "1"] + args[-3:], small.tobytes(), "sketch encoding")
    return annexb


#: the size `_search_qp` gives a QP vvenc could not code: larger than any budget
UNCODABLE = 1 << 40


def _encode_or_none(small: np.ndarray, qp: int, fps: float, preset: str) -> bytes | None:
    """`_encode`, or None where vvenc fails at a QP below the worst. It fails on some small, busy pictures at low
    QPs (48×64 noise below QP 20: an error flushing the encoder), where the bytes would be far above any budget of
    ours: the searches treat such a QP as one that does not fit."""
    try:
        return _encode(small, qp, fps, preset)
    except InputError:
        if qp == QP_RANGE[-1]:
            raise
        return None


def _search_qp(small: np.ndarray, budget: int, fps: float, guess: int) -> tuple[int | None, bytes]:
    """(qp, stream) of the best fast-preset QP whose stream fits `budget`; (None, the stream at the worst QP) if
    even that overshoots.
    Starts at `guess` and aims each next QP at the budget along the size's slope in log(bytes) (measured from the
    two nearest QPs tried, QP_PER_HALVING before that), bisecting every other step once bracketed: 2-4 encodes
    when the guess is near (each scale's search starts from the previous scale's answer).

    Not `genvc.ratesearch.search_quality`, the bench's search of the same shape: that one first encodes the worst
    QP (the floor, needed for its `reached` flag and shared across the targets of one clip), which here would cost
    one more encode at every scale of the ladder; this one starts at the guess and searches both ways."""
    streams: dict[int, bytes | None] = {}

    def size(qp: int) -> int:
        if qp not in streams:
            streams[qp] = _encode_or_none(small, qp, fps, SEARCH_PRESET)
        return UNCODABLE if streams[qp] is None else max(1, len(streams[qp]))

    def aim(qp: int) -> float:  # the QP where the size would meet the budget, seen from qp
        others = [q for q in streams if q != qp]
        slope = QP_PER_HALVING
        if others:
            near = min(others, key=lambda q: abs(q - qp))
            if size(near) != size(qp):
                slope = max(1.0, min(20.0, (near - qp) / np.log2(size(qp) / size(near))))
        return qp + slope * np.log2(size(qp) / budget)

    lo = hi = None  # the largest QP known to overshoot, the smallest known to fit
    qp, step = min(max(guess, QP_RANGE[0]), QP_RANGE[-1]), 0
    while True:
        if size(qp) <= budget:
            hi = qp
        else:
            lo = qp
        if hi is not None and (hi == QP_RANGE[0] or (lo is not None and hi - lo == 1)):
            return hi, streams[hi]
        if hi is None:
            if lo == QP_RANGE[-1]:
                return None, streams[lo]
            qp = min(QP_RANGE[-1], max(lo + 1, int(np.ceil(aim(lo)))))
        elif lo is None:  # aim one step past the budget so the next encode brackets it
            qp = max(QP_RANGE[0], min(hi - 1, int(np.floor(aim(hi))) - 1))
        else:
            qp = int(round(aim(hi))) if step % 2 == 0 else (lo + hi) // 2
            qp, step = min(max(qp, lo + 1), hi - 1), step + 1


def _final(small: np.ndarray, budget: int, fps: float, qp: int) -> SketchCode | None:
    """The final-preset code nearest below `budget`, starting from the fast search's QP less FINAL_QP_OFFSET: one
    QP up while it overshoots, then one down while it still fits. Measured, not predicted: a QP step is 4-12 % of
    the bytes (synth-static at full size, QP 40 → 39: +4.2 %), and predicting 12 % stopped one QP short."""
    best, qp = None, max(QP_RANGE[0], qp - FINAL_QP_OFFSET)
    while qp <= QP_RANGE[-1]:
        data = _encode_or_none(small, qp, fps, PRESET)
        if data is None or len(data) > budget:
            if best is not None:
                return best
            qp += 1
            continue
        best = SketchCode(data, 0, qp)
        if qp == QP_RANGE[0]:
            return best
        qp -= 1
    return best


def _fit(small: np.ndarray, budget: int, fps: float, guess: int = 40) -> SketchCode | None:
    """The best-quality final code that fits `budget` bytes, or None."""
    qp, _ = _search_qp(small, budget, fps, guess)
    return None if qp is None else _final(small, budget, fps, qp)


def sample_frames(num_frames: int, runs: int = 5, run: int = 3) -> list[int]:
    """The frames candidates are judged on: `runs` runs of `run` consecutive frames (VMAF's motion feature needs
    neighbours), one at the centre of each equal part of the clip (a stratified sample: every part of the clip
    counts alike); all frames of a short clip.

    Measured (exp: every scale of synth-pan and synth-zoom at 0.005 bpp coded at the budget, VMAF of the sample
    against VMAF over all 45 frames): 5 runs of 3 were within 0.1-0.6 of the all-frame score at every scale and
    picked the all-frame best on both; the former runs of 5 at the start, middle and end were 1.3-2.3 below (the
    start run sits next to the intra picture) and picked 1/1.5 on synth-pan, where all frames say full size."""
    if num_frames <= runs * run:
        return list(range(num_frames))
    centres = [int((k + 0.5) * num_frames / runs) for k in range(runs)]
    return sorted({min(max(c - run // 2, 0), num_frames - run) + i for c in centres for i in range(run)})


def plain_judge(frames: np.ndarray, tune: str = DEFAULT_TUNE) -> Judge:
    """Judges a candidate by the tuned metric of its upsampled frames alone (no learned part)."""
    sample = sample_frames(len(frames))
    return lambda decoded, scale, qp: score(frames[sample], decoded, tune)


@dataclass
class Candidate:
    scale: float
    qp: int  # the fast search's QP
    score: float  # the judge's, on the final preset's stream
    code: SketchCode  # that stream


def _judge_code(frames: np.ndarray, code: SketchCode, judge: Judge) -> float:
    t, h, w = frames.shape[:3]
    return judge(decode_sketch(code.data, w, h, code.scale, t, only=sample_frames(t)), code.scale, code.qp)


def search_scales(frames: np.ndarray, budget: int, fps: float, judge: Judge,
                  ladder: tuple[float, ...] = LADDER) -> list[Candidate]:
    """Each scale of `ladder` (finest first) that fits `budget`: its QP found with the fast preset, then coded
    with the final one and judged; stops once PATIENCE scales in a row score below the best (quality rises then falls with scale)."""
    # the first guess: QP 40 gave 0.0063 bpp at full size on bikes (45 frames, faster), QP_PER_HALVING per halving
    t, h, w = frames.shape[:3]
    guess = int(round(40 - QP_PER_HALVING * np.log2(max(budget * 8 / (t * h * w), 1e-6) / 0.0063)))
    candidates, worse, floors = [], 0, []
    for scale in ladder:
        small = downsample(frames, scale)
        qp, data = _search_qp(small, budget, fps, guess)
        if qp is None and len(data) * (1 - FINAL_SMALLER) <= budget:  # the final preset may still fit
            if len(_encode(small, QP_RANGE[-1], fps, PRESET)) <= budget:
                qp = QP_RANGE[-1]
        if qp is None:  # even QP 63 overshoots: per-picture headers, which shrink little with the scale
            floor = len(data)
            if floors and floors[-1] - floor < floor - budget:
                break  # at this pace the next scales cannot reach the budget either
            floors.append(floor)
            continue
        # judged on the final preset's stream: the fast one's quality ranks scales differently at low rates
        # (tools/scale_search_check.py: synth-static at 0.0046 bpp, fast picks 1/3, final 1/1.5, 6.1 VMAF apart)
        final = _final(small, budget, fps, qp)
        if final is None:
            continue
        final.scale = scale
        candidates.append(Candidate(scale, qp, _judge_code(frames, final, judge), final))
        worse = worse + 1 if candidates[-1].score < max(c.score for c in candidates) else 0
        if worse >= PATIENCE or qp == QP_RANGE[0]:
            break  # qp 0: finer scales fit losslessly-near, coarser ones cannot do better
        next_scale = ladder[min(ladder.index(scale) + 1, len(ladder) - 1)]
        # the next scale's QP at the same bytes: bytes ∝ pixels^BYTES_PIXEL_EXPONENT, QP_PER_HALVING per halving
        guess = qp - int(round(QP_PER_HALVING * BYTES_PIXEL_EXPONENT * 2 * np.log2(next_scale / scale)))
    return candidates


def ladder_near(scale: float) -> tuple[float, ...]:
    """The ladder's scales within one step of `scale` (a chosen scale, maybe filled between two steps): where a
    search that already chose `scale` looks again at a nearby budget."""
    below = max(i for i, s in enumerate(LADDER) if s <= scale)
    above = min((i for i, s in enumerate(LADDER) if s >= scale), default=len(LADDER) - 1)
    return LADDER[max(0, below - 1):above + 2]


def encode_sketch(frames: np.ndarray, budget: int, fps: float, scale: float | None = None,
                  judge: Judge | None = None, tune: str = DEFAULT_TUNE, ladder: tuple[float, ...] = LADDER) -> SketchCode:
    """The sketch of `frames` (T×H×W×3 uint8) in at most `budget` bytes.

    Without a fixed `scale`, the scales of `ladder` (full size first) are coded at the budget (QP searched with the
    fast preset, coded with the final one) and judged by `judge` (default: the tuned metric of the upsampled
    frames, `tune` "vmaf" or "psnr") until the quality falls PATIENCE times; the best fills the budget in 1/16
    scale steps. Close calls against full size are settled after both fills. If no scale fits, the coarsest at FLOOR_QP is returned and the caller sees
    the overshoot.
    """
    if budget < 1:
        raise InputError(f"sketch budget must be positive, got {budget} bytes")
    if scale is not None:
        if scale not in LADDER:
            raise InputError(f"sketch scale must be one of {list(LADDER)}, got {scale}")
        fit = _fit(downsample(frames, scale), budget, fps)
        if fit is None:
            return encode_sketch_at(frames, scale, FLOOR_QP, fps)
        fit.scale = scale
        return fit
    judge = judge or plain_judge(frames, tune)
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
    (the luma decisions, and so VMAF, stay as they are). For the last clip of a video, whose leftover bytes would
    otherwise be lost; only tried when more than 3 % of the budget is unused."""
    best = code
    for offset in CHROMA_OFFSETS:
        if len(best.data) >= 0.97 * budget:
            break
        data = _encode(downsample(frames, code.scale), code.qp, fps, PRESET, offset)
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

    def coded_size(scale: float) -> tuple[int, int]:
        sw, sh = sketch_size(width, height, scale)
        return _padded(sw), _padded(sh)

    by_size = {}  # padded coded size -> the finest scale giving it: coarser ones with the same size are no cheaper
    for step in steps:
        by_size[coded_size(step)] = min(by_size.get(coded_size(step), step), step)
    current = coded_size(code.scale)
    steps = sorted((v for k, v in by_size.items() if k != current or code.scale == 1), reverse=True)
    # steps run from fewest to most bytes: find the last that fits
    def overshoots(index: int) -> bool:
        return len(_encode(downsample(frames, steps[index]), qp, fps, SEARCH_PRESET)) > budget

    best = first_true(len(steps), overshoots) - 1
    for index in range(best, max(-1, best - 2), -1):  # two final encodes at most: the fill is worth a few %
        data = _encode(downsample(frames, steps[index]), qp, fps, PRESET)
        if len(data) <= budget:
            return SketchCode(data, steps[index], qp) if len(data) > len(code.data) else code
    return code


def encode_sketch_at(frames: np.ndarray, scale: float, qp: int, fps: float, preset: str = PRESET) -> SketchCode:
    """The sketch at a given scale and QP (no rate target)."""
    return SketchCode(_encode(downsample(frames, scale), qp, fps, preset), scale, qp)


def decode_sketch(data: bytes, width: int, height: int, scale: float, num_frames: int,
                  only: list[int] | None = None, packed: bool = True) -> np.ndarray:
    """The sketch's frames upsampled to width×height (num_frames×H×W×3 uint8; only the frames `only` lists if
    given); FormatError if it is not that. `packed` False: a version-1 sketch (every unit varint-framed, no
    deflated parameter sets)."""
    frames = decode_sketch_small(data, width, height, scale, num_frames, packed)
    return upsample(frames if only is None else frames[only], width, height, scale)


def decode_sketch_small(data: bytes, width: int, height: int, scale: float, num_frames: int,
                        packed: bool = True) -> np.ndarray:
    """The sketch's frames as coded (num_frames × its `sketch_size` × 3 uint8, padding cropped), before
    `upsample`."""
    check_scale(scale)
    sw, sh = sketch_size(width, height, scale)
    annexb = paramsets.unpack(data) if packed else elementary.restore_vvc(data)
    frames = decode_to_rgb("vvc", annexb, _padded(sw), _padded(sh), "sketch decoding", num_frames)
    return np.ascontiguousarray(frames[:, :sh, :sw])
