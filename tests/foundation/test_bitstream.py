import zlib
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genvc.bitstream import (
    MAGIC, VERSION, ClipUnit, KeyframeUnit, Section, Stream, StreamHeader, read_stream, unit_sizes, write_stream,
)
from genvc.bitstream.varint import encode_varint
from genvc.clipplan import plan_clips
from genvc.errors import FormatError


def make_stream(num_frames=100, interval=45) -> Stream:
    plan = plan_clips(None, num_frames, interval=interval)
    header = StreamHeader(640, 272, Fraction(30000, 1001), num_frames, plan, "small-v1", bytes(range(8)))
    keyframes = [KeyframeUnit(i, 1, bytes([i % 251]) * (10 + i), scale_log2=i % 2) for i in plan.keyframes]
    clips = [ClipUnit(i, 1, {Section.H: b"h" * i, Section.TEXT: "a cat".encode()}) for i, c in enumerate(plan.clips)
             if c.num_frames > 2]
    return Stream(header, keyframes, clips)


STREAM = write_stream(make_stream())


def test_round_trip_is_identical():
    parsed = read_stream(STREAM)
    original = make_stream()
    assert parsed.header == original.header
    assert parsed.keyframes == original.keyframes
    assert parsed.clips == original.clips
    assert write_stream(parsed) == STREAM


def test_unit_sizes_add_up_to_file_size():
    sizes = unit_sizes(STREAM)
    assert sum(sizes.values()) == len(STREAM)
    assert set(sizes) == {"preamble", "header", "keyframe", "clip"}


def test_bad_magic_and_version():
    with pytest.raises(FormatError, match="magic"):
        read_stream(b"RIFF" + STREAM[4:])
    with pytest.raises(FormatError, match="version"):
        read_stream(MAGIC + bytes([VERSION + 1]) + STREAM[5:])
    with pytest.raises(FormatError):
        read_stream(b"")


@pytest.mark.parametrize("cut", [5, 6, 10, 40, len(STREAM) // 2, len(STREAM) - 1])
def test_truncation_is_refused(cut):
    with pytest.raises(FormatError):
        read_stream(STREAM[:cut])


def test_trailing_garbage_and_extra_units_are_refused():
    with pytest.raises(FormatError):
        read_stream(STREAM + b"\x00")
    extra = bytes([2]) + encode_varint(3) + b"abc"
    with pytest.raises(FormatError):
        read_stream(STREAM + extra + zlib.crc32(extra).to_bytes(4, "little"))


def test_every_single_bit_flip_is_detected():
    for position in range(len(STREAM)):
        for bit in (0, 3, 7):
            corrupt = bytearray(STREAM)
            corrupt[position] ^= 1 << bit
            with pytest.raises(FormatError):
                read_stream(bytes(corrupt))


def _with_header(payload: bytes) -> bytes:
    head = bytes([1]) + encode_varint(len(payload))
    return MAGIC + bytes([VERSION]) + head + payload + zlib.crc32(head + payload).to_bytes(4, "little")


def _header_payload(width, height, frames, clips=()):
    out = b"".join(encode_varint(v) for v in (width, height, 25, 1, frames))
    out += bytes([4]) + b"none" + bytes(8) + encode_varint(len(clips))
    return out + b"".join(encode_varint(c) for c in clips)


@pytest.mark.parametrize("width,height,frames,message", [
    (640, 272, 10**9, "frame count"),
    (10**6, 10**6, 10, "width"),
    (8192, 8192, 10, "frame size"),
    (4, 4, 10, "frame size"),
])
def test_absurd_headers_are_refused_before_allocation(width, height, frames, message):
    with pytest.raises(FormatError, match=message):
        read_stream(_with_header(_header_payload(width, height, frames)))


def test_huge_clip_is_refused():
    with pytest.raises(FormatError, match="clip"):
        read_stream(_with_header(_header_payload(4096, 2160, 4000, clips=[4000 << 1])))


def test_unknown_section_tag_is_refused():
    stream = make_stream()
    stream.clips[0].sections[99] = b"x"
    with pytest.raises(FormatError, match="section tag"):
        read_stream(write_stream(stream))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_streams_raise_only_format_error(data):
    """Mutate, truncate, extend and splice valid streams: parsing either succeeds or raises FormatError."""
    blob = bytearray(STREAM)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        position = data.draw(st.integers(0, max(0, len(blob) - 1)))
        if op == "flip" and blob:
            blob[position] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set" and blob:
            blob[position] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del blob[position:]
        elif op == "insert":
            blob[position:position] = data.draw(st.binary(min_size=1, max_size=16))
        else:
            del blob[position:position + data.draw(st.integers(1, 16))]
    try:
        read_stream(bytes(blob))
    except FormatError:
        pass
