"""Code a clip's frames at 1/s of their size with vvenc (10-bit, QP search to a byte budget) and decode them back.

Only decoder-needed NAL units are kept (`intra.elementary`), so the bytes counted are the bytes a decoder needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from genvc.errors import FormatError, InputError
from genvc.intra import elementary
from genvc.intra.ffmpeg_codecs import decode_to_rgb, raw_rgb_input, run_ffmpeg

#: downscale factors the encoder may choose, finest first, each with the worst QP at which it is still preferred
#: to the next coarser one (measured on bikes/bigbuckbunny: at the same bytes a finer sketch at a high QP keeps
#: more VMAF than a coarser one at a lower QP, down to about these QPs).
SCALES: dict[int, int] = {1: 40, 2: 56, 3: 56, 4: 56, 6: 56, 8: 56}
# Past QP 56 vvenc's pictures fall apart (bikes at 1/4 size: 31.3 dB at QP 40, 23.1 at 55, 19.7 at 63) while the
# bytes hardly fall (per-picture headers dominate): when no scale fits below it, the rate cannot be reached.
QP_RANGE = range(0, 64)
#: scales are coded in sixteenths, 1 to MAX_SCALE: between the ladder's steps they fill what an integer QP step
#: leaves of a budget
SCALE_UNIT = 16
MAX_SCALE = 8
#: chroma QP offsets tried, in order, to spend the last few percent of a budget (measured on bikes at QP 32:
#: 0, -2, -4, -8 give +0, +1.4, +3.6, +6.6 % bytes)
CHROMA_OFFSETS = (-2, -4, -8)
# The QP search runs the fast preset; the final encode the better one (at equal QP: +0.5 dB for +0.4 % bytes on
# bigbuckbunny at 1/2 size, 4x the time).
SEARCH_PRESET, PRESET = "faster", "medium"
BLOCK = 8  # coded sizes are padded to whole 8×8 blocks (4:2:0 and vvenc's minimum CU), cropped on decode
MIN_CODED = 32  # and to at least 32×32: vvenc fails on a 16×16 picture


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


def _encode(small: np.ndarray, qp: int, fps: float, preset: str = PRESET, chroma_offset: int = 0) -> bytes:
    t, h, w = small.shape[:3]
    seconds = max(1, int(np.ceil(t / max(fps, 1e-3))) + 1)  # one intra period covers the clip
    args = [*raw_rgb_input(w, h, max(fps, 1e-3)), "-pix_fmt", "yuv420p10le", "-c:v", "libvvenc",
            "-preset", preset, "-qp", str(qp), "-qpa", "0", "-period", str(seconds),
            "-vvenc-params", f"CbQpOffset={chroma_offset}:CrQpOffset={chroma_offset}",
            "-f", "vvc", "pipe:1"]
    try:
        annexb = run_ffmpeg(args, small.tobytes(), "sketch encoding")
    except FormatError:  # vvenc's worker threads crashed once in ~500 bench encodes: retry single-threaded
        annexb = run_ffmpeg(args[:-3] + ["-threads", "1"] + args[-3:], small.tobytes(), "sketch encoding")
    return elementary.strip_vvc(annexb)


def _fit(small: np.ndarray, budget: int, fps: float) -> SketchCode | None:
    """The best-quality code that fits `budget` bytes: a binary search over QP with the fast preset (bytes fall
    as QP rises), then the final encode with the slower, better one, one QP up if it no longer fits."""
    lo, hi, qp = QP_RANGE[0], QP_RANGE[-1], None
    while lo <= hi:
        mid = (lo + hi) // 2
        if len(_encode(small, mid, fps, SEARCH_PRESET)) <= budget:
            qp, hi = mid, mid - 1
        else:
            lo = mid + 1
    if qp is None:
        return None
    # the presets' sizes differ by a few percent either way: walk from the search's QP to the final preset's
    best = None
    while qp <= QP_RANGE[-1]:
        data = _encode(small, qp, fps, PRESET)
        if len(data) > budget:
            if best is not None:
                return best
            qp += 1
            continue
        best = SketchCode(data, 0, qp)
        if qp == QP_RANGE[0]:
            return best
        qp -= 1
    return best


def encode_sketch(frames: np.ndarray, budget: int, fps: float, scale: int | None = None) -> SketchCode:
    """The sketch of `frames` (T×H×W×3 uint8) in at most `budget` bytes.

    Without a fixed `scale`, the finest scale whose best fitting QP is no worse than its limit in `SCALES` wins;
    if none fits, the smallest stream at the scales' QP limits is returned and the caller sees the overshoot.
    """
    if budget < 1:
        raise InputError(f"sketch budget must be positive, got {budget} bytes")
    scales = [scale] if scale else list(SCALES)
    for s in scales:
        if s not in SCALES:
            raise InputError(f"sketch scale must be one of {list(SCALES)}, got {s}")
        fit = _fit(downsample(frames, s), budget, fps)
        if fit is not None and (scale or fit.qp <= SCALES[s]):
            fit.scale = s
            return fit if scale else _fill(frames, fit, budget, fps, finest=max([1] + [f for f in SCALES if f < s]))
    # The floor: the smallest stream at the worst useful QP (the caller sees the overshoot).
    return min((encode_sketch_at(frames, s, SCALES[s], fps) for s in scales), key=lambda code: len(code.data))


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
    lo, hi, best = 0, len(steps) - 1, -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if len(_encode(downsample(frames, steps[mid]), qp, fps, SEARCH_PRESET)) <= budget:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    for index in range(best, -1, -1):
        data = _encode(downsample(frames, steps[index]), qp, fps, PRESET)
        if len(data) <= budget:
            return SketchCode(data, steps[index], qp) if len(data) > len(code.data) else code
    return code


def encode_sketch_at(frames: np.ndarray, scale: float, qp: int, fps: float) -> SketchCode:
    """The sketch at a given scale and QP (no rate target)."""
    return SketchCode(_encode(downsample(frames, scale), qp, fps, PRESET), scale, qp)


def decode_sketch(data: bytes, width: int, height: int, scale: float, num_frames: int) -> np.ndarray:
    """The sketch's frames upsampled to width×height (num_frames×H×W×3 uint8); FormatError if it is not that."""
    check_scale(scale)
    sw, sh = sketch_size(width, height, scale)
    pw, ph = _padded(sw), _padded(sh)
    frames = decode_to_rgb("vvc", elementary.restore_vvc(data), pw, ph, "sketch decoding", num_frames)
    return upsample(frames, width, height, scale)
