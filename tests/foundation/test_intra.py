import numpy as np
import pytest

from genvc.intra import codec_by_id, encode_to_budget, get_codec
from genvc.intra import elementary
from genvc.intra.base import decode_keyframe
from genvc.io import read_video
from genvc.samples import sample_path


@pytest.fixture(scope="module")
def frame():
    return read_video(sample_path("carphone"), max_frames=1).frames[0]


def psnr(a, b):
    return 10 * np.log10(255**2 / np.mean((a.astype(float) - b) ** 2))


@pytest.mark.parametrize("name", ["av1", "vvc", "avif"])
def test_budget_is_met_and_quality_follows_budget(frame, name):
    codec = get_codec(name)
    small = encode_to_budget(codec, frame, 1200)
    large = encode_to_budget(codec, frame, 5000)
    assert len(small.data) <= 1200 and len(large.data) <= 5000
    h, w = frame.shape[:2]
    low = decode_keyframe(codec, small.data, w, h, small.scale_log2)
    high = decode_keyframe(codec, large.data, w, h, large.scale_log2)
    assert low.shape == frame.shape
    assert psnr(frame, high) > psnr(frame, low) > 22
    assert codec_by_id(small.codec_id).name == name


def test_av1_payload_has_no_temporal_delimiter(frame):
    data = encode_to_budget(get_codec("av1"), frame, 3000).data
    assert (data[0] >> 3) & 0xF == 1  # starts with the sequence header
    assert elementary.strip_av1(elementary.restore_av1(data)) == data


def test_vvc_payload_drops_non_picture_nal_units():
    annexb = (b"\x00\x00\x00\x01" + bytes([0, 15 << 3]) + b"sps" + b"\x00\x00\x01" + bytes([0, 23 << 3]) + b"sei"
              + b"\x00\x00\x01" + bytes([0, 20 << 3]) + b"a" + b"\x00\x00\x01" + bytes([0, 8 << 3]) + b"slice")
    stripped = elementary.strip_vvc(annexb)
    assert elementary.restore_vvc(stripped) == (b"\x00\x00\x00\x01" + bytes([0, 15 << 3]) + b"sps"
                                                 + b"\x00\x00\x00\x01" + bytes([0, 8 << 3]) + b"slice")


def test_tiny_budget_falls_back_to_smaller_picture():
    frame = read_video(sample_path("bigbuckbunny"), max_frames=1).frames[0]
    coded = encode_to_budget(get_codec("av1"), frame, 700)
    assert coded.scale_log2 >= 1 and len(coded.data) <= 700
    out = decode_keyframe(get_codec("av1"), coded.data, 1280, 720, coded.scale_log2)
    assert out.shape == (720, 1280, 3)


def test_odd_frame_size_round_trips(frame):
    odd = np.ascontiguousarray(frame[:9, :17])
    codec = get_codec("av1")
    coded = encode_to_budget(codec, odd, None)
    assert decode_keyframe(codec, coded.data, 17, 9, coded.scale_log2).shape == (9, 17, 3)
