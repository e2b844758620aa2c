"""Keep only what a decoder needs from AV1 OBU and VVC Annex-B elementary streams.

AV1: temporal delimiters, metadata and padding OBUs are dropped (a temporal delimiter is put back to decode).
VVC: AUD, SEI, filler, end-of-sequence/bitstream, OPI and DCI NAL units are dropped, and start codes are
replaced by varint lengths. The splitters here also serve the bench's bit counting of baseline streams.
"""

from __future__ import annotations

import re

from genvc.bitstream.varint import Reader, encode_varint
from genvc.errors import FormatError

AV1_TEMPORAL_DELIMITER = b"\x12\x00"
_AV1_DROP = {2, 5, 15}  # temporal delimiter, metadata, padding
_START_CODE = re.compile(b"\x00\x00\x01")
_VVC_DROP = {12, 13, 20, 21, 22, 23, 24, 25}  # OPI, DCI, AUD, EOS, EOB, prefix/suffix SEI, filler


def _leb128(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        if pos + i >= len(data):
            raise FormatError("AV1 OBU size truncated")
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos + i + 1
    raise FormatError("AV1 OBU size longer than 8 bytes")


def split_obus(data: bytes) -> list[tuple[int, bytes]]:
    """(obu_type, whole OBU bytes) of an AV1 low-overhead bitstream (every OBU must carry its size field)."""
    obus, pos = [], 0
    while pos < len(data):
        header = data[pos]
        obu_type, has_extension, has_size = (header >> 3) & 0xF, (header >> 2) & 1, (header >> 1) & 1
        if not has_size:
            raise FormatError("AV1 OBU without obu_size: not a low-overhead bitstream")
        size, payload_start = _leb128(data, pos + 1 + has_extension)
        end = payload_start + size
        if end > len(data):
            raise FormatError("AV1 OBU truncated")
        obus.append((obu_type, data[pos:end]))
        pos = end
    return obus


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


def strip_av1(obus: bytes) -> bytes:
    return b"".join(obu for obu_type, obu in split_obus(obus) if obu_type not in _AV1_DROP)


def restore_av1(payload: bytes) -> bytes:
    return AV1_TEMPORAL_DELIMITER + payload


def vvc_units(annexb: bytes) -> list[bytes]:
    """The NAL units of a VVC Annex-B stream that a decoder needs (no SEI, AUD, filler, ...)."""
    return [nal for nal in split_annexb(annexb) if len(nal) >= 2 and nal_type("vvc", nal) not in _VVC_DROP]


def strip_vvc(annexb: bytes) -> bytes:
    return b"".join(encode_varint(len(nal)) + nal for nal in vvc_units(annexb))


def restore_vvc(payload: bytes) -> bytes:
    reader, out = Reader(payload, "VVC keyframe"), bytearray()
    while reader.remaining:
        out += b"\x00\x00\x00\x01" + reader.take(reader.varint(len(payload), "NAL length"))
    return bytes(out)
