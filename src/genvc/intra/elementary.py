"""Keep only what a decoder needs from AV1 OBU and VVC Annex-B elementary streams.

AV1: temporal delimiters, metadata and padding OBUs are dropped (a temporal delimiter is put back to decode).
VVC: AUD, SEI, filler, end-of-sequence/bitstream, OPI and DCI NAL units are dropped, and start codes are
replaced by varint lengths.
"""

from __future__ import annotations

from genvc.bitstream.varint import Reader, encode_varint
from genvc.errors import FormatError

AV1_TEMPORAL_DELIMITER = b"\x12\x00"
_AV1_DROP = {2, 5, 15}  # temporal delimiter, metadata, padding
_VVC_DROP = {12, 13, 20, 21, 22, 23, 24, 25}  # OPI, DCI, AUD, EOS, EOB, prefix/suffix SEI, filler


def _leb128(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        if pos >= len(data):
            raise FormatError("AV1 OBU size truncated")
        byte = data[pos]
        value |= (byte & 0x7F) << (7 * i)
        pos += 1
        if not byte & 0x80:
            return value, pos
    raise FormatError("AV1 OBU size too long")


def strip_av1(obus: bytes) -> bytes:
    out, pos = bytearray(), 0
    while pos < len(obus):
        start = pos
        header = obus[pos]
        obu_type, has_extension, has_size = (header >> 3) & 0xF, header >> 2 & 1, header >> 1 & 1
        pos += 1 + has_extension
        if not has_size:
            raise FormatError("AV1 OBU without size field")
        size, pos = _leb128(obus, pos)
        pos += size
        if obu_type not in _AV1_DROP:
            out += obus[start:pos]
    return bytes(out)


def restore_av1(payload: bytes) -> bytes:
    return AV1_TEMPORAL_DELIMITER + payload


def _split_annexb(stream: bytes) -> list[bytes]:
    nals, i, starts = [], 0, []
    while True:
        j = stream.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        starts.append(j + 3)
        i = j + 3
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(stream)
        nal = stream[s:end].rstrip(b"\x00") if k + 1 < len(starts) else stream[s:end]
        if nal:
            nals.append(nal)
    return nals


def strip_vvc(annexb: bytes) -> bytes:
    out = bytearray()
    for nal in _split_annexb(annexb):
        if len(nal) >= 2 and (nal[1] >> 3) & 0x1F not in _VVC_DROP:
            out += encode_varint(len(nal)) + nal
    return bytes(out)


def restore_vvc(payload: bytes) -> bytes:
    reader, out = Reader(payload, "VVC keyframe"), bytearray()
    while reader.remaining:
        out += b"\x00\x00\x00\x01" + reader.take(reader.varint(len(payload), "NAL length"))
    return bytes(out)
