"""Code a clip's frames at 1/scale of their size with vvenc (10-bit, one QP) and decode them back.

Only decoder-needed NAL units are kept, the leading parameter sets deflated against a dictionary
(`genvc.inter.paramsets`), so the bytes counted are the bytes a decoder needs. Which scale and QP a clip gets is
searched in `genvc.inter.scale_search`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from genvc.errors import FormatError, InputError
from genvc.ffmpeg import decode_to_rgb, raw_rgb_input, run
from genvc.inter import paramsets
from genvc.intra import elementary
from genvc.ladders import MAX_SCALE, QP_RANGE, SCALE_UNIT
from genvc.utils.blocks import pad_to_blocks, padded, scaled_size
from genvc.utils.digest import content_key

# The QP and scale searches run the fast preset; the final encode the better one (at equal QP: +0.5 dB for +0.4 %
# bytes on bigbuckbunny at 1/2 size; bikes 45 frames full size: 1.3 s vs 3.4 s, 14 % more bytes at QP 40).
SEARCH_PRESET, PRESET = "faster", "medium"
MIN_CODED = 32  # coded sizes are at least 32×32: vvenc fails on a 16×16 picture
#: the size `size_or_uncodable` gives a QP vvenc could not code: larger than any budget
UNCODABLE = 1 << 40


@dataclass
class SketchCode:
    data: bytes  # VVC NAL units, varint-length framed
    scale: float  # a multiple of 1/SCALE_UNIT in [1, MAX_SCALE]
    qp: int


def check_scale(scale: float) -> None:
    if not 1 <= scale <= MAX_SCALE or scale * SCALE_UNIT != int(scale * SCALE_UNIT):
        raise FormatError(f"sketch scale {scale} is not a multiple of 1/{SCALE_UNIT} in [1, {MAX_SCALE}]")


def coded_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The padded size vvenc codes a width×height frame at 1/scale in."""
    sw, sh = scaled_size(width, height, scale)
    return padded(sw, MIN_CODED), padded(sh, MIN_CODED)


def downsample(frames: np.ndarray, scale: float) -> np.ndarray:
    """Area-downsample to 1/scale and edge-pad to whole blocks."""
    h, w = frames.shape[1:3]
    sw, sh = scaled_size(w, h, scale)
    small = frames if scale == 1 else np.stack([cv2.resize(f, (sw, sh), interpolation=cv2.INTER_AREA) for f in frames])
    return pad_to_blocks(small, MIN_CODED)


def upsample(frames: np.ndarray, width: int, height: int, scale: float) -> np.ndarray:
    """Crop the padding and Lanczos-upsample back to width×height."""
    sw, sh = scaled_size(width, height, scale)
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


def forget_streams() -> None:
    """Empty the stream memo (`genvc.codec.encoder.forget_measurements`)."""
    _MEMO.streams.clear()
    _MEMO.bytes = 0


def encode_small(small: np.ndarray, qp: int, fps: float, preset: str = PRESET, chroma_offset: int = 0) -> bytes:
    """The sketch payload of `small` (a `downsample`d clip) at `qp`; remembered."""
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


def encode_or_none(small: np.ndarray, qp: int, fps: float, preset: str) -> bytes | None:
    """`encode_small`, or None where vvenc fails at a QP below the worst. It fails on some small, busy pictures at
    low QPs (48×64 noise below QP 20: an error flushing the encoder), where the bytes would be far above any budget
    of ours: the searches treat such a QP as one that does not fit."""
    try:
        return encode_small(small, qp, fps, preset)
    except InputError:
        if qp == QP_RANGE[-1]:
            raise
        return None


def encode_sketch_at(frames: np.ndarray, scale: float, qp: int, fps: float, preset: str = PRESET) -> SketchCode:
    """The sketch at a given scale and QP (no rate target)."""
    return SketchCode(encode_small(downsample(frames, scale), qp, fps, preset), scale, qp)


def decode_sketch(data: bytes, width: int, height: int, scale: float, num_frames: int,
                  only: list[int] | None = None, packed: bool = True) -> np.ndarray:
    """The sketch's frames upsampled to width×height (num_frames×H×W×3 uint8; only the frames `only` lists if
    given); FormatError if it is not that. `packed` False: a version-1 sketch (every unit varint-framed, no
    deflated parameter sets)."""
    frames = decode_sketch_small(data, width, height, scale, num_frames, packed)
    return upsample(frames if only is None else frames[only], width, height, scale)


def decode_sketch_small(data: bytes, width: int, height: int, scale: float, num_frames: int,
                        packed: bool = True) -> np.ndarray:
    """The sketch's frames as coded (num_frames × its scaled size × 3 uint8, padding cropped), before `upsample`."""
    check_scale(scale)
    sw, sh = scaled_size(width, height, scale)
    annexb = paramsets.unpack(data) if packed else elementary.restore_vvc(data)
    pw, ph = coded_size(width, height, scale)
    frames = decode_to_rgb("vvc", annexb, pw, ph, "sketch decoding", num_frames)
    return np.ascontiguousarray(frames[:, :sh, :sw])
