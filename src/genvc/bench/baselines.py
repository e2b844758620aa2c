"""Classical codecs through the static ffmpeg: encode RGB frames to a raw elementary stream at one quality
parameter (CRF or QP), count its picture bytes, decode it back to RGB.

Input is BT.709 limited-range 4:2:0 made by us (`metrics.color`), so every codec sees the same pixels; vvenc
takes 10-bit input (ffmpeg shifts our 8-bit planes up). One intra frame per clip ("long intra period"): the
bench clips are short, and at these rates a second I-frame would cost most of the budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from genvc.bench.bitcount import StreamBytes, count_picture_bytes
from genvc.errors import InputError
from genvc.ffmpeg import available_encoders, run_measured
from genvc.metrics.color import rgb_to_yuv420_planes, yuv420_frame_bytes, yuv420_planes_to_rgb


@dataclass(frozen=True)
class Baseline:
    name: str
    encoder: str  # ffmpeg encoder name
    stream: str  # elementary stream type: the muxer/demuxer and the bit counter
    q_min: int  # best quality the search may use
    q_max: int  # worst quality the encoder allows: its rate floor
    preset: str  # default preset, chosen for 2 CPU cores (a parameter of every run)
    bit_depth: int = 8

    @property
    def muxer(self) -> str:
        return "obu" if self.stream == "av1" else self.stream

    def encoder_args(self, q: int, preset: str, num_frames: int, fps: Fraction, threads: int) -> list[str]:
        gop = str(num_frames + 1)
        if self.encoder == "libx264":
            return ["-preset", preset, "-crf", str(q), "-g", gop, "-keyint_min", gop, "-threads", str(threads)]
        if self.encoder == "libx265":
            return ["-preset", preset, "-crf", str(q),
                    "-x265-params", f"keyint={gop}:min-keyint={gop}:info=0:log-level=error:pools={threads}"]
        if self.encoder == "libsvtav1":
            return ["-preset", preset, "-crf", str(q), "-g", gop, "-svtav1-params", f"lp={threads}"]
        if self.encoder == "libaom-av1":
            return ["-cpu-used", preset, "-crf", str(q), "-b:v", "0", "-g", gop, "-row-mt", "1",
                    "-threads", str(threads)]
        if self.encoder == "libvvenc":
            seconds = max(1, math.ceil(num_frames / float(fps)) + 1)
            return ["-preset", preset, "-qp", str(q), "-qpa", "0", "-period", str(seconds), "-threads", str(threads)]
        raise ValueError(f"no arguments for encoder {self.encoder}")


BASELINES = {b.name: b for b in (
    Baseline("x264", "libx264", "h264", 10, 51, "slow"),
    Baseline("x265", "libx265", "hevc", 10, 51, "slow"),
    Baseline("svtav1", "libsvtav1", "av1", 10, 63, "6"),
    Baseline("aom", "libaom-av1", "av1", 10, 63, "6"),
    Baseline("vvenc", "libvvenc", "vvc", 10, 63, "medium", bit_depth=10),  # the preset genvc codes with
)}


def get_baseline(name: str) -> Baseline:
    if name not in BASELINES:
        raise InputError(f"unknown baseline codec {name!r}; known: {', '.join(BASELINES)}")
    baseline = BASELINES[name]
    if baseline.encoder not in available_encoders():
        raise InputError(f"this ffmpeg has no {baseline.encoder} encoder (needed for {name})")
    return baseline


@dataclass
class EncodedStream:
    data: bytes
    bytes: StreamBytes
    encode_seconds: float
    encode_peak_mb: float


def encode_frames(baseline: Baseline, frames: np.ndarray, fps: Fraction, q: int, preset: str | None = None,
                  threads: int = 2) -> EncodedStream:
    t, h, w = frames.shape[:3]
    if h % 2 or w % 2:
        raise InputError(f"baselines need even frame sizes (4:2:0), got {w}x{h}")
    raw = b"".join(rgb_to_yuv420_planes(f) for f in frames)
    # The colour tags describe the input (before -i): as output options they made ffmpeg convert our BT.709 planes
    # as if they were BT.601, so every baseline coded colour-shifted pixels (vvenc at QP 5 on synth-pan: PSNR-Y
    # 30.5 dB instead of 52.5, VMAF 100 all the same; at QP 45 VMAF 80.7 instead of 76.8, PSNR-Y 27.4 vs 30.2).
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(fps),
            "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv",
            "-i", "-", "-pix_fmt", "yuv420p10le" if baseline.bit_depth == 10 else "yuv420p", "-c:v", baseline.encoder]
    args += baseline.encoder_args(q, preset or baseline.preset, t, fps, threads)
    args += ["-f", baseline.muxer, "-"]
    result = run_measured(args, stdin=raw, what=f"{baseline.name} encoding")
    return EncodedStream(result.stdout, count_picture_bytes(baseline.stream, result.stdout), result.seconds,
                         result.peak_rss_mb)


@dataclass
class DecodedFrames:
    frames: np.ndarray
    decode_seconds: float
    decode_peak_mb: float


def decode_stream(baseline: Baseline, data: bytes, width: int, height: int, threads: int = 2) -> DecodedFrames:
    pix_fmt = "yuv420p10le" if baseline.bit_depth == 10 else "yuv420p"
    decoder = ["-c:v", "libdav1d"] if baseline.stream == "av1" else []
    args = ["-threads", str(threads), "-f", baseline.muxer] + decoder + ["-i", "-",
            "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    result = run_measured(args, stdin=data, what=f"{baseline.name} decoding")
    size = yuv420_frame_bytes(width, height, baseline.bit_depth)
    if len(result.stdout) % size:
        raise InputError(f"decoded {len(result.stdout)} bytes, not a whole number of {width}x{height} frames")
    frames = [yuv420_planes_to_rgb(result.stdout[i:i + size], width, height, bit_depth=baseline.bit_depth)
              for i in range(0, len(result.stdout), size)]
    return DecodedFrames(np.stack(frames), result.seconds, result.peak_rss_mb)
