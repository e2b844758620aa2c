"""The `vvenc-scaled` baseline: what ffmpeg alone gives a skilled user at low rates. The clip is
area-downsampled, coded with vvenc at genvc's internal preset and Lanczos-upsampled, with the scale chosen by
genvc's own per-clip search (`genvc.inter.encode_sketch`, judged by VMAF on the plain upsampled frames): genvc
minus its learned part and its clip segmentation, so BD-rate against it is what the learned part adds."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from genvc.inter.vvc import PRESET
from genvc.io import Video

NAME = "vvenc-scaled"


@dataclass
class ScaledRun:
    frames: np.ndarray
    size: int  # the VVC NAL units' bytes with a varint length each (no file header)
    qp: int
    scale: float
    encode_seconds: float
    decode_seconds: float


def run_vvenc_scaled(video: Video, target_bytes: float) -> ScaledRun:
    from genvc.inter import decode_sketch, encode_sketch

    start = time.perf_counter()
    code = encode_sketch(video.frames, max(1, int(target_bytes)), float(video.fps))
    encode_seconds = time.perf_counter() - start
    start = time.perf_counter()
    frames = decode_sketch(code.data, video.width, video.height, code.scale, video.num_frames)
    return ScaledRun(frames, len(code.data), code.qp, code.scale, encode_seconds, time.perf_counter() - start)


def preset() -> str:
    return PRESET
