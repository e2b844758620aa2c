"""Byte layout of a `.gvc` file (all integers unsigned LEB128 varints unless noted).

    file      = MAGIC (4 bytes) | VERSION (u8) | unit*
    unit      = type (u8) | length (varint) | payload (length bytes) | CRC32 of the three before (u32 LE)
    HEADER    = width | height | fps_num | fps_den | num_frames | model_id_len (u8) | model_id (UTF-8)
                | weights_hash (8 bytes) | num_clips | per clip: (num_frames << 1 | shares_start_keyframe)
    KEYFRAME  = frame_index | intra_codec (u8) | scale_log2 (u8) | image bytes (rest; none when intra_codec is
                0 = derived: the first clip unit with this frame as an end decodes it)
    CLIP      = clip_index | method (u8) | num_sections (u8) | per section: tag (u8) | length | bytes

The header comes first. Then, clip by clip, the keyframes the clip needs that are not yet sent, and the clip's
unit. Clips of one or two frames are all keyframes and have no clip unit. A clip that shares its start keyframe
with the previous clip's end does not resend it (Multi-C: every keyframe is coded once).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from enum import IntEnum
from fractions import Fraction

from genvc.bitstream import limits
from genvc.bitstream.sections import Section
from genvc.bitstream.varint import Reader, encode_varint
from genvc.errors import FormatError
from genvc.segment.plan import Clip, ClipPlan

MAGIC = b"\x89GVC"
VERSION = 1
HASH_BYTES = 8


class UnitType(IntEnum):
    HEADER = 1
    KEYFRAME = 2
    CLIP = 3


@dataclass
class StreamHeader:
    width: int
    height: int
    fps: Fraction
    num_frames: int
    plan: ClipPlan
    model_id: str = "none"
    weights_hash: bytes = bytes(HASH_BYTES)


@dataclass
class KeyframeUnit:
    frame_index: int
    codec_id: int
    data: bytes
    scale_log2: int = 0


@dataclass
class ClipUnit:
    clip_index: int
    method_id: int
    sections: dict[int, bytes] = field(default_factory=dict)


@dataclass
class Stream:
    header: StreamHeader
    keyframes: list[KeyframeUnit]
    clips: list[ClipUnit]

    def keyframe(self, frame_index: int) -> KeyframeUnit:
        return next(k for k in self.keyframes if k.frame_index == frame_index)

    def clip_unit(self, clip_index: int) -> ClipUnit | None:
        return next((c for c in self.clips if c.clip_index == clip_index), None)


#: keyframe codec id of a keyframe sent as an empty unit: the first clip with a unit that has it as an end
#: decodes it from its own sections (methods with `derives_keyframes`, e.g. the sketch's intra picture)
DERIVED_KEYFRAME = 0


def needs_clip_unit(clip: Clip) -> bool:
    return clip.num_frames > 2


def unit_framing(payload_bytes: int) -> int:
    """Bytes a unit adds around its payload: type, length varint, CRC32."""
    return 1 + len(encode_varint(payload_bytes)) + 4


def keyframe_unit_bytes(frame_index: int, image_bytes: int) -> int:
    payload = len(encode_varint(frame_index)) + 2 + image_bytes
    return payload + unit_framing(payload)


def clip_unit_bytes(clip_index: int, sections: dict[int, bytes]) -> int:
    payload = len(encode_varint(clip_index)) + 2 + sum(
        1 + len(encode_varint(len(p))) + len(p) for p in sections.values())
    return payload + unit_framing(payload)


# ---------------------------------------------------------------- writing

def _unit(unit_type: UnitType, payload: bytes) -> bytes:
    if len(payload) > limits.MAX_UNIT_BYTES:
        raise FormatError(f"unit of {len(payload)} bytes exceeds the {limits.MAX_UNIT_BYTES}-byte limit")
    head = bytes([unit_type]) + encode_varint(len(payload))
    return head + payload + zlib.crc32(head + payload).to_bytes(4, "little")


def header_payload(h: StreamHeader) -> bytes:
    model_id = h.model_id.encode("utf-8")
    if len(model_id) > limits.MAX_MODEL_ID or len(h.weights_hash) != HASH_BYTES:
        raise ValueError("model id too long or weights hash not 8 bytes")
    out = bytearray()
    for value in (h.width, h.height, h.fps.numerator, h.fps.denominator, h.num_frames):
        out += encode_varint(value)
    out += bytes([len(model_id)]) + model_id + h.weights_hash
    out += encode_varint(len(h.plan.clips))
    previous_end = None
    for clip in h.plan.clips:
        shares = int(previous_end is not None and clip.start == previous_end)
        out += encode_varint(clip.num_frames << 1 | shares)
        previous_end = clip.end
    return bytes(out)


def write_stream(stream: Stream) -> bytes:
    """Serialize; keyframes and clip units are interleaved in decoding order."""
    header = stream.header
    header.plan.validate()
    out = bytearray(MAGIC + bytes([VERSION]))
    out += _unit(UnitType.HEADER, header_payload(header))
    sent: set[int] = set()
    for index, clip in enumerate(header.plan.clips):
        for frame_index in (clip.start, clip.end):
            if frame_index not in sent:
                key = stream.keyframe(frame_index)
                out += _unit(UnitType.KEYFRAME, encode_varint(key.frame_index)
                             + bytes([key.codec_id, key.scale_log2]) + key.data)
                sent.add(frame_index)
        if needs_clip_unit(clip):
            unit = stream.clip_unit(index)
            if unit is None:
                raise ValueError(f"clip {index} has inner frames but no clip unit")
            payload = bytearray(encode_varint(index) + bytes([unit.method_id, len(unit.sections)]))
            for tag in sorted(unit.sections):
                payload += bytes([tag]) + encode_varint(len(unit.sections[tag])) + unit.sections[tag]
            out += _unit(UnitType.CLIP, bytes(payload))
    return bytes(out)


# ---------------------------------------------------------------- reading

def _read_units(data: bytes):
    """Yield (type, payload) after checking magic, version, lengths and CRCs."""
    if len(data) < len(MAGIC) + 1 or data[:len(MAGIC)] != MAGIC:
        raise FormatError("not a .gvc stream (bad magic)")
    if data[len(MAGIC)] != VERSION:
        raise FormatError(f"unsupported .gvc version {data[len(MAGIC)]} (this genvc reads version {VERSION})")
    reader = Reader(data[len(MAGIC) + 1:], "stream")
    while reader.remaining:
        start = reader.pos
        unit_type = reader.u8()
        length = reader.varint(limits.MAX_UNIT_BYTES, "unit length")
        payload = reader.take(length)
        crc = int.from_bytes(reader.take(4), "little")
        if zlib.crc32(bytes(reader.data[start:reader.pos - 4])) != crc:
            raise FormatError(f"CRC mismatch in unit at byte {start + len(MAGIC) + 1}: the file is corrupt")
        if unit_type not in UnitType._value2member_map_:
            raise FormatError(f"unknown unit type {unit_type}")
        yield UnitType(unit_type), payload


def _parse_header(payload: bytes) -> StreamHeader:
    r = Reader(payload, "stream header")
    width = r.varint(limits.MAX_SIDE, "width")
    height = r.varint(limits.MAX_SIDE, "height")
    fps_num = r.varint(limits.MAX_FPS_TERM, "fps numerator")
    fps_den = r.varint(limits.MAX_FPS_TERM, "fps denominator")
    num_frames = r.varint(limits.MAX_FRAMES, "frame count")
    if width < limits.MIN_SIDE or height < limits.MIN_SIDE or width * height > limits.MAX_FRAME_PIXELS:
        raise FormatError(f"stream header: frame size {width}x{height} out of range")
    if fps_num == 0 or fps_den == 0 or num_frames == 0:
        raise FormatError("stream header: zero frame rate or frame count")
    try:
        model_id = r.take(r.u8()).decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("stream header: model id is not UTF-8") from None
    if len(model_id.encode()) > limits.MAX_MODEL_ID:
        raise FormatError("stream header: model id too long")
    weights_hash = r.take(HASH_BYTES)
    num_clips = r.varint(num_frames, "clip count")
    clips = []
    start = 0
    for _ in range(num_clips):
        code = r.varint(limits.MAX_CLIP_FRAMES << 1 | 1, "clip length")
        length, shares = code >> 1, code & 1
        if length == 0 or length * width * height > limits.MAX_CLIP_PIXELS:
            raise FormatError(f"stream header: clip of {length} frames at {width}x{height} out of range")
        if shares:
            if not clips:
                raise FormatError("stream header: first clip cannot share a keyframe")
            start -= 1
        clips.append(Clip(start, start + length - 1))
        start += length
    r.expect_end()
    plan = ClipPlan(num_frames, tuple(clips))
    try:
        plan.validate()
    except ValueError as exc:
        raise FormatError(f"stream header: bad clip plan: {exc}") from None
    return StreamHeader(width, height, Fraction(fps_num, fps_den), num_frames, plan, model_id, weights_hash)


def _parse_keyframe(payload: bytes, max_index: int) -> KeyframeUnit:
    r = Reader(payload, "keyframe unit")
    frame_index = r.varint(max_index, "keyframe index")
    codec_id, scale_log2 = r.u8(), r.u8()
    if scale_log2 > limits.MAX_KEYFRAME_SCALE_LOG2:
        raise FormatError(f"keyframe unit: scale 1/{1 << scale_log2} out of range")
    data = r.take(r.remaining)
    if codec_id == DERIVED_KEYFRAME:
        if data or scale_log2:
            raise FormatError("keyframe unit: a derived keyframe carries no image")
    elif not data:
        raise FormatError("keyframe unit: empty image")
    return KeyframeUnit(frame_index, codec_id, data, scale_log2)


def _parse_clip(payload: bytes, max_index: int) -> ClipUnit:
    r = Reader(payload, "clip unit")
    clip_index = r.varint(max_index, "clip index")
    method_id = r.u8()
    count = r.u8()
    if count > limits.MAX_SECTIONS:
        raise FormatError(f"clip unit: {count} sections exceed the limit {limits.MAX_SECTIONS}")
    sections: dict[int, bytes] = {}
    for _ in range(count):
        tag = r.u8()
        if tag not in Section._value2member_map_ or tag in sections:
            raise FormatError(f"clip unit: unknown or repeated section tag {tag}")
        sections[tag] = r.take(r.varint(limits.MAX_UNIT_BYTES, "section length"))
    r.expect_end()
    return ClipUnit(clip_index, method_id, sections)


def read_stream(data: bytes) -> Stream:
    """Parse and validate a whole stream; raises FormatError on anything malformed."""
    units = _read_units(data)
    first = next(units, None)
    if first is None or first[0] != UnitType.HEADER:
        raise FormatError("stream does not start with a header unit")
    header = _parse_header(first[1])
    plan = header.plan
    keyframes: list[KeyframeUnit] = []
    clip_units: list[ClipUnit] = []
    expected = _expected_units(plan)
    for position, (unit_type, payload) in enumerate(units):
        if position >= len(expected):
            raise FormatError("stream has more units than its clip plan")
        want_type, want_index = expected[position]
        if unit_type != want_type:
            raise FormatError(f"unit {position + 1}: expected {want_type.name}, found {unit_type.name}")
        if unit_type == UnitType.KEYFRAME:
            unit = _parse_keyframe(payload, header.num_frames - 1)
            got = unit.frame_index
            keyframes.append(unit)
        else:
            unit = _parse_clip(payload, len(plan.clips) - 1)
            got = unit.clip_index
            clip_units.append(unit)
        if got != want_index:
            raise FormatError(f"unit {position + 1}: expected {want_type.name.lower()} {want_index}, found {got}")
    if len(keyframes) + len(clip_units) != len(expected):
        raise FormatError(f"stream truncated: {len(keyframes) + len(clip_units)} of {len(expected)} units present")
    return Stream(header, keyframes, clip_units)


def _expected_units(plan: ClipPlan) -> list[tuple[UnitType, int]]:
    expected, sent = [], set()
    for index, clip in enumerate(plan.clips):
        for frame_index in (clip.start, clip.end):
            if frame_index not in sent:
                expected.append((UnitType.KEYFRAME, frame_index))
                sent.add(frame_index)
        if needs_clip_unit(clip):
            expected.append((UnitType.CLIP, index))
    return expected


def unit_sizes(data: bytes) -> dict[str, int]:
    """Bytes per unit type (framing included) plus the file preamble, summing to len(data)."""
    sizes = {"preamble": len(MAGIC) + 1}
    for unit_type, payload in _read_units(data):
        name = unit_type.name.lower()
        sizes[name] = sizes.get(name, 0) + len(payload) + unit_framing(len(payload))
    return sizes


def section_sizes(stream: Stream) -> dict[str, int]:
    """Payload bytes per clip-unit section kind, over the whole stream."""
    sizes: dict[str, int] = {}
    for unit in stream.clips:
        for tag, payload in unit.sections.items():
            name = Section(tag).name.lower()
            sizes[name] = sizes.get(name, 0) + len(payload)
    return sizes
