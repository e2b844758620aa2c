"""Reading a `.gvc` stream (layout in `genvc.bitstream.format`): every field checked against `limits` before use,
the units against the clip plan's order; anything malformed raises FormatError."""

from __future__ import annotations

import zlib
from fractions import Fraction

from genvc.bitstream import limits
from genvc.bitstream.format import (
    DERIVED_KEYFRAME, HASH_BYTES, MAGIC, VERSION, ClipUnit, KeyframeUnit, Stream, StreamHeader, UnitType,
    derived_keyframes, expected_units, unit_framing,
)
from genvc.bitstream.sections import Section
from genvc.bitstream.varint import Reader
from genvc.clipplan.plan import Clip, ClipPlan
from genvc.errors import FormatError


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
    expected = expected_units(plan)
    derivable = derived_keyframes(plan)
    for position, (unit_type, payload) in enumerate(units):
        if position >= len(expected):
            raise FormatError("stream has more units than its clip plan")
        want_type, want_index = expected[position]
        if unit_type != want_type:
            raise FormatError(f"unit {position + 1}: expected {want_type.name}, found {unit_type.name}")
        if unit_type == UnitType.KEYFRAME:
            unit = _parse_keyframe(payload, header.num_frames - 1)
            got = unit.frame_index
            if unit.codec_id == DERIVED_KEYFRAME and got not in derivable:
                raise FormatError(f"keyframe {got} is sent derived, but its first clip has no clip unit")
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
