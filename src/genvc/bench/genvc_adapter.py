"""The one place the bench touches genvc's own codec: `genvc.codec.encode(video, EncodeConfig(...)) -> bytes`
and `genvc.codec.decode(data) -> Video`. The bits are those of the bytes actually written to disk."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genvc.bench.memory import PeakRSS
from genvc.io import Video
from genvc.utils.atomic import write_bytes_atomic


def genvc_unavailable_reason() -> str | None:
    """None when the codec API can be imported, else why not."""
    try:
        from genvc.codec import EncodeConfig, decode, encode  # noqa: F401
    except ImportError as exc:
        return f"genvc.codec is not available ({exc})"
    return None


@dataclass
class GenvcRun:
    frames: np.ndarray
    size: int
    encode_seconds: float
    decode_seconds: float
    encode_peak_mb: float
    decode_peak_mb: float


def run_genvc(video: Video, bpp: float, method: str, stream_path: Path, options: dict | None = None) -> GenvcRun:
    from genvc.codec import EncodeConfig, decode, encode

    config = EncodeConfig(method=method, bpp=bpp, **(options or {}))
    with PeakRSS() as enc_mem:
        start = time.perf_counter()
        data = encode(video, config)
        encode_seconds = time.perf_counter() - start
    write_bytes_atomic(stream_path, data)
    data = stream_path.read_bytes()
    with PeakRSS() as dec_mem:
        start = time.perf_counter()
        decoded = decode(data)
        decode_seconds = time.perf_counter() - start
    return GenvcRun(decoded.frames, stream_path.stat().st_size, encode_seconds, decode_seconds,
                    enc_mem.peak_mb, dec_mem.peak_mb)
