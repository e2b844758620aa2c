"""AV1 intra (libaom, still-picture mode) and VVC intra (libvvenc, 10-bit) through the static ffmpeg of
imageio-ffmpeg, decoding with dav1d / ffmpeg's native VVC decoder. Only elementary-stream payload is kept."""

from __future__ import annotations

import functools
import subprocess

import numpy as np

from genvc.errors import FormatError, GenvcError
from genvc.intra import elementary
from genvc.intra.base import IntraCodec

# Colour conversion both ways with the same swscale settings, so encoder and decoder agree on colours.
SWS_FLAGS = ["-sws_flags", "bicubic+accurate_rnd+full_chroma_int+bitexact"]
#: threads of the encoders ffmpeg runs (`genvc encode --threads`); None: each encoder's own choice. Decoding stays
#: single-threaded (the leading `-threads 1`), as docs/determinism.md assumes.
ENCODER_THREADS: int | None = None


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], stdin: bytes, what: str) -> bytes:
    if ENCODER_THREADS is not None and "-threads" not in args:
        args = [*args[:-1], "-threads", str(ENCODER_THREADS), args[-1]]  # an output option: before the output
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-threads", "1", *args]
    try:
        result = subprocess.run(cmd, input=stdin, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise GenvcError(f"ffmpeg timed out during {what}") from None
    if result.returncode != 0 or not result.stdout:
        detail = result.stderr.decode(errors="replace").strip()[-300:] or f"exit status {result.returncode}"
        raise FormatError(f"ffmpeg failed during {what}: {detail}")
    return result.stdout


def raw_rgb_input(width: int, height: int, fps: float | None = None) -> list[str]:
    """ffmpeg input arguments for raw RGB frames on stdin, converted with our swscale settings."""
    rate = ["-r", f"{fps:.6f}"] if fps else []
    return ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", *rate, "-i", "pipe:0", *SWS_FLAGS]


def decode_to_rgb(fmt: str, data: bytes, width: int, height: int, what: str, num_frames: int = 1) -> np.ndarray:
    """Decode exactly `num_frames` pictures of width×height to uint8 num_frames×H×W×3; FormatError otherwise."""
    # -max_pixels: a few bytes of sequence header can claim a 16K picture; refuse it before the decoder
    # allocates it (and before gigabytes of raw RGB come back through the pipe). The margin covers decoders
    # that allocate CTU-aligned buffers (VVC: 176x144 asks for 192x144; CTUs are at most 128).
    max_pixels = (width + 128) * (height + 128)
    out = run_ffmpeg(["-max_pixels", str(max_pixels), "-f", fmt, "-i", "pipe:0", *SWS_FLAGS, "-frames:v", str(num_frames),
                      "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], data, what)
    if len(out) != num_frames * width * height * 3:
        expected = f"a {width}x{height} image" if num_frames == 1 else f"{num_frames} frames of {width}x{height}"
        raise FormatError(f"{what}: decoded {len(out)} bytes, expected {expected}")
    return np.frombuffer(out, np.uint8).reshape(num_frames, height, width, 3).copy()


class AV1Intra(IntraCodec):
    name = "av1"
    codec_id = 1
    qualities = range(0, 64)  # libaom crf

    def encode(self, image: np.ndarray, quality: int) -> bytes:
        h, w = image.shape[:2]
        obus = run_ffmpeg([*raw_rgb_input(w, h), "-frames:v", "1", "-pix_fmt", "yuv420p", "-c:v", "libaom-av1",
                           "-still-picture", "1", "-cpu-used", "6", "-crf", str(quality), "-b:v", "0",
                           "-f", "obu", "pipe:1"], image.tobytes(), "AV1 intra encoding")
        return elementary.strip_av1(obus)

    def decode(self, data: bytes, width: int, height: int) -> np.ndarray:
        return decode_to_rgb("obu", elementary.restore_av1(data), width, height, "AV1 keyframe decoding")[0]


class VVCIntra(IntraCodec):
    name = "vvc"
    codec_id = 2
    qualities = range(0, 64)  # vvenc QP

    def encode(self, image: np.ndarray, quality: int) -> bytes:
        h, w = image.shape[:2]
        annexb = run_ffmpeg([*raw_rgb_input(w, h), "-frames:v", "1", "-pix_fmt", "yuv420p10le", "-c:v", "libvvenc",
                             "-preset", "faster", "-qp", str(quality), "-qpa", "0", "-f", "vvc", "pipe:1"],
                            image.tobytes(), "VVC intra encoding")
        return elementary.strip_vvc(annexb)

    def decode(self, data: bytes, width: int, height: int) -> np.ndarray:
        return decode_to_rgb("vvc", elementary.restore_vvc(data), width, height, "VVC keyframe decoding")[0]
