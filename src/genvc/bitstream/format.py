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

import io
import zlib
from dataclasses import dataclass, field
from enum import IntEnum
from fractions import Fraction

from genvc.bitstream import limits
from genvc.bitstream.sections import Section
from genvc.bitstream.varint import Reader, encode_varint
from genvc.clipplan.plan import Clip, ClipPlan
from genvc.errors import FormatError

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

    def units_by_index(self) -> tuple[dict[int, KeyframeUnit], dict[int, ClipUnit]]:
        """Keyframe units by frame index and clip units by clip index (lookups without a scan each)."""
        return {k.frame_index: k for k in self.keyframes}, {c.clip_index: c for c in self.clips}


#: keyframe codec id of a keyframe sent as an empty unit: the first clip with a unit that has it as an end
#: decodes it from its own sections (methods with `derives_keyframes`, e.g. the sketch's intra picture)
DERIVED_KEYFRAME = 0


def needs_clip_unit(clip: Clip) -> bool:
    return clip.num_frames > 2


def derived_keyframes(plan: ClipPlan) -> set[int]:
    """Keyframes that may be sent derived: those whose first clip (in plan order) has a clip unit, which then
    carries them. `read_stream` refuses a derived keyframe outside this set."""
    derived, seen = set(), set()
    for clip in plan.clips:
        for key in (clip.start, clip.end):
            if key not in seen:
                seen.add(key)
                if needs_clip_unit(clip):
                    derived.add(key)
    return derived


def max_clip_frames(width: int, height: int) -> int:
    """The longest clip a stream of this frame size may hold (`limits.MAX_CLIP_PIXELS`, the decoder's working set)."""
    return max(1, min(limits.MAX_CLIP_FRAMES, limits.MAX_CLIP_PIXELS // (width * height)))


# ---------------------------------------------------------------- sizes (what each part of the layout costs)

def unit_framing(payload_bytes: int) -> int:
    """Bytes a unit adds around its payload: type, length varint, CRC32."""
    return 1 + len(encode_varint(payload_bytes)) + 4


def stream_overhead(header: StreamHeader) -> int:
    """Bytes of the file before its first keyframe: magic, version and the header unit."""
    size = len(header_payload(header))
    return len(MAGIC) + 1 + size + unit_framing(size)


def keyframe_unit_bytes(frame_index: int, image_bytes: int) -> int:
    payload = len(encode_varint(frame_index)) + 2 + image_bytes
    return payload + unit_framing(payload)


def clip_unit_bytes(clip_index: int, sections: dict[int, bytes]) -> int:
    payload = len(encode_varint(clip_index)) + 2 + sum(
        1 + len(encode_varint(len(p))) + len(p) for p in sections.values())
    return payload + unit_framing(payload)


def clip_unit_overhead(clip_index: int, unit_bytes: int) -> int:
    """Bytes of a clip unit outside its sections (index, method, count, framing), for a unit of at most
    `unit_bytes`: sections given `unit_bytes - clip_unit_overhead(i, unit_bytes)` keep the unit within it."""
    return len(encode_varint(clip_index)) + 2 + unit_framing(max(0, unit_bytes))


def check_header(h: StreamHeader) -> None:
    """The bounds `read_stream` applies to a header, for the writer: a stream is never written that its reader
    would refuse."""
    if not (limits.MIN_SIDE <= h.width <= limits.MAX_SIDE and limits.MIN_SIDE <= h.height <= limits.MAX_SIDE) \
            or h.width * h.height > limits.MAX_FRAME_PIXELS:
        raise FormatError(f"frame size {h.width}x{h.height} out of range")
    fps = Fraction(h.fps)
    if not (0 < fps.numerator <= limits.MAX_FPS_TERM and 0 < fps.denominator <= limits.MAX_FPS_TERM):
        raise FormatError(f"frame rate {fps} out of range")
    if not 0 < h.num_frames <= limits.MAX_FRAMES:
        raise FormatError(f"{h.num_frames} frames out of range (1..{limits.MAX_FRAMES})")
    if len(h.model_id.encode("utf-8")) > limits.MAX_MODEL_ID or len(h.weights_hash) != HASH_BYTES:
        raise FormatError("model id too long or weights hash not 8 bytes")
    longest = max_clip_frames(h.width, h.height)
    for clip in h.plan.clips:
        if clip.num_frames > longest:
            raise FormatError(f"clip of {clip.num_frames} frames at {h.width}x{h.height} out of range "
                              f"(at most {longest})")
    try:
        h.plan.validate()
    except ValueError as exc:
        raise FormatError(f"bad clip plan: {exc}") from None


# ---------------------------------------------------------------- writing

def _unit(unit_type: UnitType, payload: bytes) -> bytes:
    if len(payload) > limits.MAX_UNIT_BYTES:
        raise FormatError(f"unit of {len(payload)} bytes exceeds the {limits.MAX_UNIT_BYTES}-byte limit")
    head = bytes([unit_type]) + encode_varint(len(payload))
    return head + payload + zlib.crc32(head + payload).to_bytes(4, "little")


def header_payload(h: StreamHeader) -> bytes:
    check_header(h)
    model_id = h.model_id.encode("utf-8")
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


class StreamWriter:
    """Writes a stream unit by unit to a binary file in decoding order (see the module docstring), checking each
    unit against the plan, so a long video's stream can be written as its clips are coded."""

    def __init__(self, file, header: StreamHeader) -> None:
        self._file = file
        self._expected = _expected_units(header.plan)
        self.size = 0  # bytes written so far
        self._emit(MAGIC + bytes([VERSION]) + _unit(UnitType.HEADER, header_payload(header)))

    def _emit(self, data: bytes) -> None:
        self._file.write(data)
        self.size += len(data)

    @property
    def next_unit(self) -> tuple[UnitType, int] | None:
        """(type, frame or clip index) of the unit to write next; None when the stream is complete."""
        return self._expected[0] if self._expected else None

    def write(self, unit: KeyframeUnit | ClipUnit) -> None:
        if isinstance(unit, KeyframeUnit):
            got = (UnitType.KEYFRAME, unit.frame_index)  # payloads are the reader's to check (tests forge them)
            payload = encode_varint(unit.frame_index) + bytes([unit.codec_id, unit.scale_log2]) + unit.data
        else:
            got = (UnitType.CLIP, unit.clip_index)
            payload = bytearray(encode_varint(unit.clip_index) + bytes([unit.method_id, len(unit.sections)]))
            for tag in sorted(unit.sections):
                payload += bytes([tag]) + encode_varint(len(unit.sections[tag])) + unit.sections[tag]
        if got != self.next_unit:
            raise ValueError(f"expected unit {self.next_unit}, got {got}")
        self._emit(_unit(got[0], bytes(payload)))
        self._expected.pop(0)

    def finish(self) -> None:
        if self._expected:
            raise ValueError(f"stream incomplete: {len(self._expected)} units missing, next {self.next_unit}")


def write_stream(stream: Stream) -> bytes:
    """Serialize a whole stream held in memory; keyframes and clip units are interleaved in decoding order."""
    out = io.BytesIO()
    writer = StreamWriter(out, stream.header)
    keyframes = {k.frame_index: k for k in stream.keyframes}
    clips = {c.clip_index: c for c in stream.clips}
    while writer.next_unit is not None:
        unit_type, index = writer.next_unit
        unit = (keyframes if unit_type == UnitType.KEYFRAME else clips).get(index)
        if unit is None:
            raise ValueError(f"stream has no {unit_type.name.lower()} unit {index}")
        writer.write(unit)
    return out.getvalue()


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
