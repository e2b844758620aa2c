"""Counting the bits of raw elementary streams that a decoder needs for the pictures.

Encoders add units that carry no picture data: x264/x265 write a version SEI of ~700 bytes, streams may carry
access-unit delimiters, filler, end-of-sequence units, and AV1 a temporal delimiter per frame. At 0.002 bpp a
45-frame 640×272 clip has ~1.9 KB in total, so these matter. We split the stream into NAL units (Annex B:
H.264/HEVC/VVC) or OBUs (AV1 low-overhead format) and count the bytes of the units we keep: pictures and the
parameter sets needed to decode them (SPS/PPS/VPS/APS/picture headers, AV1 sequence headers), each unit counted
without its Annex-B start code (a container would frame it with a length field instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from genvc.intra.elementary import nal_type, split_annexb, split_obus

# NAL unit types that are not needed to reconstruct the pictures.
DROPPED_NAL_TYPES = {
    "h264": {6: "SEI", 9: "AUD", 10: "end of sequence", 11: "end of stream", 12: "filler"},
    "hevc": {35: "AUD", 36: "end of sequence", 37: "end of bitstream", 38: "filler", 39: "SEI", 40: "SEI"},
    "vvc": {20: "AUD", 21: "end of sequence", 22: "end of bitstream", 23: "SEI", 24: "SEI", 25: "filler"},
}
DROPPED_OBU_TYPES = {2: "temporal delimiter", 5: "metadata", 15: "padding"}
STREAMS = ("h264", "hevc", "vvc", "av1")

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
