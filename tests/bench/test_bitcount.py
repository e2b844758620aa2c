import numpy as np
import pytest

from genvc.bench.baselines import BASELINES, decode_stream, encode_frames
from genvc.bench.bitcount import count_picture_bytes, split_annexb, split_obus, strip_non_picture
from genvc.errors import FormatError


def nal(header: bytes, size: int) -> bytes:
    return b"\x00\x00\x00\x01" + header + bytes([0x55]) * size


def test_h264_known_sei_and_aud_are_left_out():
    stream = (nal(b"\x09", 1)          # AUD: 2 bytes
              + nal(b"\x67", 9)        # SPS: 10
              + nal(b"\x68", 3)        # PPS: 4
              + nal(b"\x06", 699)      # SEI: 700, like x264's version string
              + nal(b"\x65", 299))     # IDR slice: 300
    counted = count_picture_bytes("h264", stream)
    assert counted.total == len(stream)
    assert counted.picture == 10 + 4 + 300
    assert counted.dropped == {"AUD": 2, "SEI": 700}
    stripped = strip_non_picture("h264", stream)
    assert [u[0] for u in split_annexb(stripped)] == [0x67, 0x68, 0x65]


def test_annexb_three_byte_start_codes_and_trailing_zeros():
    stream = b"\x00\x00\x01\x67\xAA\x00\x00" + b"\x00\x00\x01\x65\xBB\xCC"
    assert split_annexb(stream) == [b"\x67\xAA", b"\x65\xBB\xCC"]


def test_hevc_and_vvc_nal_types():
    hevc = nal(bytes([39 << 1, 1]), 50) + nal(bytes([35 << 1, 1]), 1) + nal(bytes([19 << 1, 1]), 100)
    assert count_picture_bytes("hevc", hevc).picture == 102
    vvc = nal(bytes([0, 20 << 3 | 1]), 1) + nal(bytes([0, 23 << 3 | 1]), 40) + nal(bytes([0, 8 << 3 | 1]), 80)
    assert count_picture_bytes("vvc", vvc).picture == 82
    assert count_picture_bytes("vvc", vvc).dropped == {"AUD": 3, "SEI": 42}


def test_av1_temporal_delimiters_and_padding_are_left_out():
    td = bytes([2 << 3 | 2, 0])
    seq = bytes([1 << 3 | 2, 3]) + b"abc"
    frame = bytes([6 << 3 | 2]) + bytes([0x80 | 44, 1]) + bytes(172)  # leb128(172) = 0xAC 0x01
    padding = bytes([15 << 3 | 2, 2, 0, 0])
    stream = td + seq + frame + td + frame + padding
    assert [t for t, _ in split_obus(stream)] == [2, 1, 6, 2, 6, 15]
    counted = count_picture_bytes("av1", stream)
    assert counted.picture == len(seq) + 2 * len(frame)
    assert counted.dropped == {"temporal delimiter": 4, "padding": 4}
    with pytest.raises(FormatError, match="truncated"):
        split_obus(stream[:-1])


def tiny_clip():
    from genvc.io import read_video
    from genvc.samples import sample_path

    return read_video(sample_path("cuts"), max_frames=5)


def test_x264_version_sei_is_not_counted_and_stream_still_decodes():
    video = tiny_clip()
    enc = encode_frames(BASELINES["x264"], video.frames, video.fps, q=35)
    assert 400 < enc.bytes.dropped["SEI"] < 1200  # x264's version/options string
    assert enc.bytes.picture < enc.bytes.total - enc.bytes.dropped["SEI"]  # start codes are not counted either
    full = decode_stream(BASELINES["x264"], enc.data, video.width, video.height).frames
    stripped = decode_stream(BASELINES["x264"], strip_non_picture("h264", enc.data), video.width,
                             video.height).frames
    assert full.shape == video.frames.shape
    np.testing.assert_array_equal(full, stripped)
