"""The `Video` type (uint8 RGB frames T×H×W×3 plus an exact fps) and reading/writing it with PyAV."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from genvc.bitstream import limits
from genvc.errors import InputError
from genvc.utils.atomic import atomic_path

# The container's bounds (bitstream/limits.py): frames smaller than MIN_SIDE cannot be coded by the intra codecs
# (AV1/VVC need at least 8×8 after padding); larger ones are refused before anything is allocated.
MIN_SIDE, MAX_SIDE = limits.MIN_SIDE, limits.MAX_SIDE
OUTPUT_SUFFIXES = (".mp4", ".mkv", ".mov", ".y4m")  # containers that take H.264 / raw video as written here


@dataclass
class Video:
    """Decoded video: `frames` is uint8 RGB of shape (T, H, W, 3); `fps` is exact (e.g. 30000/1001)."""

    frames: np.ndarray
    fps: Fraction

    def __post_init__(self) -> None:
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3 or self.frames.dtype != np.uint8:
            raise InputError(f"frames must be uint8 of shape (T, H, W, 3), got {self.frames.dtype} {self.frames.shape}")
        self.fps = Fraction(self.fps)
        if self.fps <= 0:
            raise InputError(f"fps must be positive, got {self.fps}")

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def num_pixels(self) -> int:
        return self.num_frames * self.height * self.width


def _open(path: str | os.PathLike):
    import av

    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    if path.is_dir():
        raise InputError(f"is a directory, not a video: {path}")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        # FFmpegError's str() starts with "[Errno -1094995529]"; its strerror is the readable part.
        raise InputError(f"cannot read {path} as a video: {getattr(exc, 'strerror', None) or exc}") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path} has no video stream")
    return container


def _stream_fps(stream) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate or rate <= 0:
        return Fraction(25)
    return Fraction(rate.numerator, rate.denominator)


def probe_video(path: str | os.PathLike) -> tuple[int, int, Fraction]:
    """(width, height, fps) of the first video stream, without decoding frames."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height, _stream_fps(stream)
    finally:
        container.close()


def iter_frames(path: str | os.PathLike, max_frames: int | None = None, start: int = 0) -> Iterator[np.ndarray]:
    """Decode frames as uint8 RGB arrays. Variable-frame-rate input is read frame by frame (timestamps dropped)."""
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        index = 0
        taken = 0
        for frame in container.decode(stream):
            if index >= start:
                if max_frames is not None and taken >= max_frames:
                    break
                # to_ndarray converts any pixel format (10-bit, 4:4:4, paletted) to 8-bit RGB.
                yield frame.to_ndarray(format="rgb24")
                taken += 1
            index += 1
    except av.FFmpegError as exc:
        raise InputError(f"cannot decode {path}: {exc}") from None
    finally:
        container.close()


def read_video(path: str | os.PathLike, max_frames: int | None = None, start: int = 0) -> Video:
    """Read a whole video (or `max_frames` of it from `start`) into memory."""
    if max_frames is not None and max_frames < 1:
        raise InputError(f"max_frames must be at least 1, got {max_frames}")
    width, height, fps = probe_video(path)
    check_size(width, height)
    frames = list(iter_frames(path, max_frames=max_frames, start=start))
    if not frames:
        raise InputError(f"{path} contains no decodable video frames")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise InputError(f"{path} changes frame size mid-stream ({sorted(shapes)}); genvc needs one size")
    return Video(np.stack(frames), fps)


def check_size(width: int, height: int, num_frames: int | None = None) -> None:
    """Refuse, before anything is coded or written, a size the container cannot hold (`bitstream.limits`)."""
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise InputError(
            f"frame size {width}x{height} is outside what genvc codes ({MIN_SIDE}..{MAX_SIDE} pixels a side)"
        )
    if width * height > limits.MAX_FRAME_PIXELS:
        raise InputError(f"frame size {width}x{height} has more than the {limits.MAX_FRAME_PIXELS} pixels "
                         f"(8K) genvc codes")
    if num_frames is not None and num_frames > limits.MAX_FRAMES:
        raise InputError(f"{num_frames} frames: genvc codes at most {limits.MAX_FRAMES} in one stream")


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray] | Video, fps: Fraction | None = None,
                lossless: bool = False, crf: int = 12) -> None:
    """Write frames atomically. `.y4m` is raw 4:2:0 (`lossless` → 4:4:4); anything else is H.264 mp4/mkv:
    `lossless` uses x264 qp 0 in 4:4:4 RGB, otherwise a high-quality CRF (default 12) in 4:2:0."""
    import av

    if isinstance(frames, Video):
        fps = frames.fps if fps is None else fps
        frames = iter(frames.frames)
    if fps is None:
        raise InputError("write_video needs an fps")
    fps = Fraction(fps)
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"cannot write {path}: the output must end in {', '.join(OUTPUT_SUFFIXES)}")
    is_y4m = path.suffix.lower() == ".y4m"
    with atomic_path(path) as tmp:
        container = av.open(str(tmp), mode="w", format="yuv4mpegpipe" if is_y4m else None)
        try:
            stream = None
            count = 0
            for frame in frames:
                if stream is None:
                    stream = _add_stream(container, is_y4m, lossless, crf, fps, frame.shape[1], frame.shape[0])
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                for packet in stream.encode(video_frame):
                    container.mux(packet)
                count += 1
            if stream is None:
                raise InputError("no frames to write")
            for packet in stream.encode():
                container.mux(packet)
        finally:
            container.close()


def _add_stream(container, is_y4m: bool, lossless: bool, crf: int, fps: Fraction, width: int, height: int):
    if is_y4m:
        stream = container.add_stream("rawvideo", rate=fps)
        stream.pix_fmt = "yuv444p" if lossless else "yuv420p"
    elif lossless:
        stream = container.add_stream("libx264rgb", rate=fps, options={"qp": "0", "preset": "veryfast"})
        stream.pix_fmt = "rgb24"
    else:
        stream = container.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": "medium"})
        stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    stream.width, stream.height = width, height
    return stream
