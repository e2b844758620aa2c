"""Hand-made streams whose header fields (or keyframe headers) claim huge sizes: each must be refused quickly with
FormatError and without an allocation sized by the claim."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from genvc.bitstream import limits
from genvc.bitstream.varint import encode_varint
from genvc.clipplan import plan_clips
from genvc.codec import iter_decode
from genvc.errors import GenvcError
from fuzz_corpus import CLIP, HEADER, KEYFRAME, PREAMBLE, field_spans, frame_unit, join_units, split_units

MAX_SECONDS = 1.0
MAX_TRACED_MB = 16.0


def header_payload(width: int, height: int, frames: int, clip_codes=(), num_clips: int | None = None,
                   model: bytes = b"none") -> bytes:
    out = b"".join(encode_varint(v) for v in (width, height, 25, 1, frames))
    out += bytes([len(model) & 0xFF]) + model + bytes(8)
    out += encode_varint(len(clip_codes) if num_clips is None else num_clips)
    return out + b"".join(encode_varint(c) for c in clip_codes)


def header_only(payload: bytes) -> bytes:
    return PREAMBLE + frame_unit(HEADER, payload)


def plan_codes(num_frames: int, interval: int) -> list[int]:
    plan = plan_clips(None, num_frames, interval=interval)
    return [c.num_frames << 1 | int(i > 0) for i, c in enumerate(plan.clips)]


def replace_keyframe_image(stream: bytes, image: bytes) -> bytes:
    """The first keyframe of `stream` carries `image` (same codec id, frame index and scale)."""
    units = split_units(stream)
    i = next(k for k, (t, _) in enumerate(units) if t == KEYFRAME)
    fields_end = field_spans(KEYFRAME, units[i][1])[2][1]
    units[i] = (KEYFRAME, units[i][1][:fields_end] + image)
    return join_units(units)


def bomb_cases(seeds: dict[str, bytes], picture_side: int = 4096) -> dict[str, bytes]:
    """name -> stream. `seeds` must hold the av1/vvc/avif seeds of `fuzz_corpus.make_seeds`."""
    from genvc.intra import get_codec

    big = limits.MAX_UNIT_BYTES
    clip_unit = next(p for t, p in split_units(seeds["av1_sections"]) if t == CLIP)
    spans = field_spans(CLIP, clip_unit)  # clip index, method, count, tag, length, ...
    huge_section = clip_unit[:spans[4][0]] + encode_varint(big) + clip_unit[spans[4][1]:]
    huge_count = clip_unit[:spans[2][0]] + bytes([255]) + clip_unit[spans[2][1]:]
    cases = {
        "1e9 frames": header_only(header_payload(640, 272, 10**9)),
        "10^6 x 10^6 frame": header_only(header_payload(10**6, 10**6, 10)),
        "8192x8192 frame (over 8K pixels)": header_only(header_payload(8192, 8192, 10)),
        "clip of 4096 frames at 8K": header_only(header_payload(7680, 4320, 4096, [4096 << 1])),
        "10^6 frames claimed, no units": header_only(header_payload(64, 48, 10**6, plan_codes(10**6, 4095))),
        "10^6 clips claimed, no clip codes": header_only(header_payload(64, 48, 10**6, num_clips=10**6)),
        "model id of 255 bytes": header_only(header_payload(64, 48, 1, [1 << 1], model=b"m" * 255)),
        "unit length 2^32-1": PREAMBLE + bytes([HEADER]) + encode_varint(2**32 - 1) + bytes(16),
        "unit length 64 MiB, 16 bytes present": PREAMBLE + bytes([HEADER]) + encode_varint(big) + bytes(16),
        "section length 64 MiB (CRC valid)": _replace_unit(seeds["av1_sections"], CLIP, huge_section),
        "255 sections (CRC valid)": _replace_unit(seeds["av1_sections"], CLIP, huge_count),
    }
    flat = np.full((picture_side, picture_side, 3), 100, np.uint8)
    for name, seed in (("av1", "av1_interval4"), ("vvc", "vvc_interval5"), ("avif", "avif_one_clip")):
        codec = get_codec(name)
        image = codec.encode(flat, codec.qualities[-1])
        cases[f"{name} keyframe of {picture_side}x{picture_side} ({len(image)} B) in a 64x48 stream"] = (
            replace_keyframe_image(seeds[seed], image))
    return cases


def _replace_unit(stream: bytes, unit_type: int, payload: bytes) -> bytes:
    units = split_units(stream)
    i = next(k for k, (t, _) in enumerate(units) if t == unit_type)
    units[i] = (unit_type, payload)
    return join_units(units)


def check_bomb(data: bytes) -> dict:
    """Parse and fully decode `data`; time it and trace the peak of Python/numpy allocations."""
    tracemalloc.start()
    started = time.perf_counter()
    error, message = None, ""
    try:
        _, frames = iter_decode(data)
        for _ in frames:
            pass
    except GenvcError as exc:
        error, message = type(exc).__name__, str(exc)
    except Exception as exc:  # reported as a failure, never raised out of the check
        error, message = f"CRASH {type(exc).__name__}", str(exc)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / 2**20
    ok = error == "FormatError" and seconds < MAX_SECONDS and peak_mb < MAX_TRACED_MB
    return {"bytes": len(data), "error": error, "message": message[:200], "seconds": round(seconds, 4),
            "traced_peak_mb": round(peak_mb, 3), "ok": ok}
