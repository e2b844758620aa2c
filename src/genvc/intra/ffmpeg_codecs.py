"""AV1 intra (libaom, still-picture mode) and VVC intra (libvvenc, 10-bit) through the static ffmpeg of
imageio-ffmpeg (`genvc.ffmpeg`), decoding with dav1d / ffmpeg's native VVC decoder. Only elementary-stream
payload is kept."""

from __future__ import annotations

import numpy as np

from genvc.ffmpeg import decode_to_rgb, raw_rgb_input, run
from genvc.intra import elementary
from genvc.intra.base import IntraCodec


class AV1Intra(IntraCodec):
    name = "av1"
    qualities = range(0, 64)  # libaom crf

    def encode(self, image: np.ndarray, quality: int) -> bytes:
        h, w = image.shape[:2]
        obus = run([*raw_rgb_input(w, h), "-frames:v", "1", "-pix_fmt", "yuv420p", "-c:v", "libaom-av1",
                    "-still-picture", "1", "-cpu-used", "6", "-crf", str(quality), "-b:v", "0",
                    "-f", "obu", "pipe:1"], image.tobytes(), "AV1 intra encoding")
        return elementary.strip_av1(obus)

    def decode(self, data: bytes, width: int, height: int) -> np.ndarray:
        return decode_to_rgb("obu", elementary.restore_av1(data), width, height, "AV1 keyframe decoding")[0]


class VVCIntra(IntraCodec):
    name = "vvc"
    qualities = range(0, 64)  # vvenc QP

    def encode(self, image: np.ndarray, quality: int) -> bytes:
        h, w = image.shape[:2]
        annexb = run([*raw_rgb_input(w, h), "-frames:v", "1", "-pix_fmt", "yuv420p10le", "-c:v", "libvvenc",
                      "-preset", "faster", "-qp", str(quality), "-qpa", "0", "-f", "vvc", "pipe:1"],
                     image.tobytes(), "VVC intra encoding")
        return elementary.strip_vvc(annexb)

    def decode(self, data: bytes, width: int, height: int) -> np.ndarray:
        return decode_to_rgb("vvc", elementary.restore_vvc(data), width, height, "VVC keyframe decoding")[0]
