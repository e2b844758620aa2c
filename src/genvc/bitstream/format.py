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
from genvc.bitstream.varint import encode_varint
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
        self._expected = expected_units(header.plan)
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


def expected_units(plan: ClipPlan) -> list[tuple[UnitType, int]]:
    """The units a stream of `plan` holds, in order: (type, frame or clip index)."""
    expected, sent = [], set()
    for index, clip in enumerate(plan.clips):
        for frame_index in (clip.start, clip.end):
            if frame_index not in sent:
                expected.append((UnitType.KEYFRAME, frame_index))
                sent.add(frame_index)
        if needs_clip_unit(clip):
            expected.append((UnitType.CLIP, index))
    return expected
