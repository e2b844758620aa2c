from fractions import Fraction

import av
import numpy as np
import pytest

from genvc.errors import InputError
from genvc.io import Video, probe_video, read_video, write_video
from genvc.samples import sample_path


def test_reads_real_sample_with_metadata():
    video = read_video(sample_path("carphone"), max_frames=5)
    assert video.frames.shape == (5, 144, 176, 3) and video.frames.dtype == np.uint8
    assert video.fps == Fraction(30000, 1001)


@pytest.mark.parametrize("suffix,lossless", [(".y4m", True), (".mkv", True), (".mp4", False)])
def test_write_then_read_keeps_fps_count_size(tmp_path, square_video, suffix, lossless):
    path = tmp_path / f"out{suffix}"
    write_video(path, Video(square_video.frames, Fraction(30000, 1001)), lossless=lossless)
    back = read_video(path)
    assert back.frames.shape == square_video.frames.shape
    assert back.fps == Fraction(30000, 1001)
    error = np.abs(back.frames.astype(int) - square_video.frames).mean()
    assert error < (0.01 if lossless and suffix == ".mkv" else 3.0)


def test_odd_sizes_round_trip(tmp_path):
    frames = np.random.default_rng(1).integers(0, 255, (3, 9, 17, 3), dtype=np.uint8)
    write_video(tmp_path / "odd.mkv", Video(frames, 10), lossless=True)
    assert read_video(tmp_path / "odd.mkv").frames.shape == (3, 9, 17, 3)


def test_ten_bit_444_source_is_read_as_8_bit_rgb(tmp_path):
    path = tmp_path / "hi.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 32, 16, "yuv444p10le"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((16, 32, 3), 40 * i, np.uint8), format="rgb24")
            for packet in stream.encode(frame.reformat(format="yuv444p10le")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    video = read_video(path)
    assert video.frames.shape == (3, 16, 32, 3) and video.frames.dtype == np.uint8


@pytest.mark.parametrize("content", [b"", b"this is not a video at all" * 10, b"\x00\x00\x00\x18ftypmp42" + bytes(64)])
def test_not_a_video_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError):
        read_video(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_video(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="directory"):
        probe_video(tmp_path)


def test_too_small_frames_are_refused(tmp_path):
    write_video(tmp_path / "tiny.mkv", Video(np.zeros((2, 4, 6, 3), np.uint8), 25), lossless=True)
    with pytest.raises(InputError, match="outside"):
        read_video(tmp_path / "tiny.mkv")


def test_truncated_mp4_is_a_clear_error(tmp_path, square_video):
    good = tmp_path / "good.mp4"
    write_video(good, square_video)
    bad = tmp_path / "truncated.mp4"
    bad.write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputError):
        read_video(bad)


def test_write_failure_leaves_no_file(tmp_path):
    def frames():
        yield np.zeros((16, 16, 3), np.uint8)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_video(tmp_path / "out.mp4", frames(), fps=25)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_directory(tmp_path, square_video):
    with pytest.raises(InputError, match="does not exist"):
        write_video(tmp_path / "nope" / "out.mp4", square_video)
