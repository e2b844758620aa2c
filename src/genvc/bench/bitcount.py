"""Counting the bits of raw elementary streams that a decoder needs for the pictures.

Encoders add units that carry no picture data: x264/x265 write a version SEI of ~700 bytes, streams may carry
access-unit delimiters, filler, end-of-sequence units, and AV1 a temporal delimiter per frame. At 0.002 bpp a
45-frame 640×272 clip has ~1.9 KB in total, so these matter. We split the stream into NAL units (Annex B:
H.264/HEVC/VVC) or OBUs (AV1 low-overhead format) and count the bytes of the units we keep: pictures and the
parameter sets needed to decode them (SPS/PPS/VPS/APS/picture headers, AV1 sequence headers), each unit counted
without its Annex-B start code (a container would frame it with a length field instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# NAL unit types that are not needed to reconstruct the pictures.
DROPPED_NAL_TYPES = {
    "h264": {6: "SEI", 9: "AUD", 10: "end of sequence", 11: "end of stream", 12: "filler"},
    "hevc": {35: "AUD", 36: "end of sequence", 37: "end of bitstream", 38: "filler", 39: "SEI", 40: "SEI"},
    "vvc": {20: "AUD", 21: "end of sequence", 22: "end of bitstream", 23: "SEI", 24: "SEI", 25: "filler"},
}
DROPPED_OBU_TYPES = {2: "temporal delimiter", 5: "metadata", 15: "padding"}
STREAMS = ("h264", "hevc", "vvc", "av1")

_START_CODE = re.compile(b"\x00\x00\x01")


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex-B byte stream, without start codes or trailing zero bytes."""
    starts = [m.end() for m in _START_CODE.finditer(data)]
    units = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(data)
        unit = data[start:end].rstrip(b"\x00")  # trailing_zero_8bits and the next 4-byte start code's zero_byte
        if unit:
            units.append(unit)
    return units


def nal_type(stream: str, unit: bytes) -> int:
    if stream == "h264":
        return unit[0] & 0x1F
    if stream == "hevc":
        return (unit[0] >> 1) & 0x3F
    if stream == "vvc":
        return (unit[1] >> 3) & 0x1F
    raise ValueError(f"not a NAL stream: {stream}")


def _leb128(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        if pos + i >= len(data):
            raise ValueError("truncated leb128")
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos + i + 1
    raise ValueError("leb128 longer than 8 bytes")


def split_obus(data: bytes) -> list[tuple[int, bytes]]:
    """(obu_type, whole OBU bytes) of an AV1 low-overhead bitstream (every OBU must carry its size field)."""
    obus, pos = [], 0
    while pos < len(data):
        header = data[pos]
        obu_type, has_extension, has_size = (header >> 3) & 0xF, (header >> 2) & 1, (header >> 1) & 1
        if not has_size:
            raise ValueError("OBU without obu_size: not a low-overhead bitstream")
        size, payload_start = _leb128(data, pos + 1 + has_extension)
        end = payload_start + size
        if end > len(data):
            raise ValueError("truncated OBU")
        obus.append((obu_type, data[pos:end]))
        pos = end
    return obus


@dataclass
class StreamBytes:
    total: int  # bytes in the file as the encoder wrote it
    picture: int  # bytes a decoder needs: what we count
    dropped: dict[str, int] = field(default_factory=dict)  # unit kind → bytes left out


def _units(stream: str, data: bytes) -> list[tuple[int, bytes]]:
    if stream == "av1":
        return split_obus(data)
    if stream not in DROPPED_NAL_TYPES:
        raise ValueError(f"unknown stream type {stream!r}; known: {', '.join(STREAMS)}")
    return [(nal_type(stream, u), u) for u in split_annexb(data)]


def _dropped_names(stream: str) -> dict[int, str]:
    return DROPPED_OBU_TYPES if stream == "av1" else DROPPED_NAL_TYPES[stream]


def count_picture_bytes(stream: str, data: bytes) -> StreamBytes:
    names = _dropped_names(stream)
    result = StreamBytes(total=len(data), picture=0)
    for kind, unit in _units(stream, data):
        if kind in names:
            result.dropped[names[kind]] = result.dropped.get(names[kind], 0) + len(unit)
        else:
            result.picture += len(unit)
    return result


def strip_non_picture(stream: str, data: bytes) -> bytes:
    """The stream with only the counted units (Annex B re-framed with 4-byte start codes). It still decodes to
    the same pictures, except for AV1, whose OBU demuxer needs temporal delimiters to find frame boundaries."""
    names = _dropped_names(stream)
    kept = [unit for kind, unit in _units(stream, data) if kind not in names]
    if stream == "av1":
        return b"".join(kept)
    return b"".join(b"\x00\x00\x00\x01" + unit for unit in kept)
