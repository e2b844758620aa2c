import os

import numpy as np
import pytest

from genvc.bitstream import read_stream
from genvc.codec import EncodeConfig, decode, encode
from genvc.errors import FormatError, InputError
from genvc.io import Video, read_video
from genvc.methods.interp import interpolate
from genvc.samples import sample_path


def psnr(a, b):
    return 10 * np.log10(255**2 / np.mean((a.astype(float) - b) ** 2))


@pytest.fixture(scope="module")
def cuts_video():
    return read_video(sample_path("cuts"), max_frames=60)


def test_round_trip_real_video_hits_target_rate(cuts_video):
    data = encode(cuts_video, EncodeConfig(method="interp", bpp=0.05, interval=20))
    bpp = len(data) * 8 / cuts_video.num_pixels
    assert 0.045 <= bpp <= 0.05
    decoded = decode(data)
    assert decoded.frames.shape == cuts_video.frames.shape and decoded.fps == cuts_video.fps
    plan = read_stream(data).header.plan
    for key in plan.keyframes:  # keyframes are coded stills: close to the source
        assert psnr(cuts_video.frames[key], decoded.frames[key]) > 24


def test_decoding_is_deterministic(square_video):
    data = encode(square_video, EncodeConfig(keyframe_bytes=600, shot_detection=False))
    first, second = decode(data), decode(data)
    assert np.array_equal(first.frames, second.frames)


def test_interp_tracks_motion_better_than_a_crossfade():
    frames = read_video(sample_path("carphone"), max_frames=13).frames  # a talking head moving moderately
    interp = interpolate(frames[0], frames[-1], len(frames))
    fade = (0.5 * frames[0] + 0.5 * frames[-1]).round().astype(np.uint8)
    assert psnr(frames[6], interp[6]) > psnr(frames[6], fade) + 0.8


@pytest.mark.parametrize("num_frames", [1, 2, 3])
def test_very_short_videos(num_frames, square_video):
    video = Video(square_video.frames[:num_frames], 25)
    decoded = decode(encode(video, EncodeConfig(shot_detection=False)))
    assert decoded.num_frames == num_frames


def test_odd_small_size_17x9():
    frames = np.random.default_rng(0).integers(0, 255, (5, 9, 17, 3), dtype=np.uint8)
    decoded = decode(encode(Video(frames, 25), EncodeConfig(shot_detection=False)))
    assert decoded.frames.shape == (5, 9, 17, 3)


def test_bad_configs_are_input_errors(square_video):
    for config in [EncodeConfig(bpp=0.01, keyframe_bytes=100), EncodeConfig(bpp=-1), EncodeConfig(interval=0),
                   EncodeConfig(method="nope"), EncodeConfig(intra="jpeg")]:
        with pytest.raises(InputError):
            encode(square_video, config)


def test_corrupt_keyframe_payload_with_valid_crc_is_a_format_error(square_video):
    from genvc.bitstream import write_stream

    stream = read_stream(encode(square_video, EncodeConfig(shot_detection=False)))
    stream.keyframes[0].data = b"\x0a\x0b" + os.urandom(40)
    with pytest.raises(FormatError):
        decode(write_stream(stream))
