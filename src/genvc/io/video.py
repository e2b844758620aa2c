"""The `Video` type (uint8 RGB frames T×H×W×3 plus an exact fps) and reading/writing it with PyAV."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

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


def _open(path: str | os.PathLike | io.BytesIO):
    import av

    if isinstance(path, io.BytesIO):  # a video piped to stdin, read whole (mp4's index may be at its end)
        path.seek(0)
        source, name = path, "<stdin>"
    else:
        source = name = Path(path)
        if not source.exists():
            raise InputError(f"no such file: {source}")
        if source.is_dir():
            raise InputError(f"is a directory, not a video: {source}")
        source = str(source)
    try:
        container = av.open(source)
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        # FFmpegError's str() starts with "[Errno -1094995529]"; its strerror is the readable part.
        raise InputError(f"cannot read {name} as a video: {getattr(exc, 'strerror', None) or exc}") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{name} has no video stream")
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


def estimated_frames(path: str | os.PathLike) -> int | None:
    """The frame count the container declares (None where it declares none): a progress bar's total before the
    frames are counted, never trusted for coding."""
    container = _open(path)
    try:
        return container.streams.video[0].frames or None
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
        raise InputError(f"cannot decode {'<stdin>' if isinstance(path, io.BytesIO) else path}: {exc}") from None
    finally:
        container.close()


def read_video(path: str | os.PathLike | io.BytesIO, max_frames: int | None = None, start: int = 0) -> Video:
    """Read a whole video (or `max_frames` of it from `start`) into memory. `path` "-" reads stdin (any container
    ffmpeg can probe: y4m, mkv, mp4, ...); a BytesIO holds the file's bytes."""
    if max_frames is not None and max_frames < 1:
        raise InputError(f"max_frames must be at least 1, got {max_frames}")
    if start < 0:
        raise InputError(f"start must be at least 0, got {start}")
    if str(path) == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("input '-' reads a video from stdin, but stdin is a terminal; pipe one in")
        path = io.BytesIO(sys.stdin.buffer.read())
    name = "<stdin>" if isinstance(path, io.BytesIO) else path
    width, height, fps = probe_video(path)
    check_size(width, height)
    frames = list(iter_frames(path, max_frames=max_frames, start=start))
    if not frames:
        raise InputError(f"{name} contains no decodable video frames" + (f" from frame {start} on" if start else ""))
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise InputError(f"{name} changes frame size mid-stream ({sorted(shapes)}); genvc needs one size")
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


def written_size(path: str | os.PathLike, width: int, height: int, lossless: bool = False) -> tuple[int, int]:
    """The frame size `write_video` gives a width×height video at `path`. H.264 4:2:0 (mp4/mkv/mov) needs even
    sides, so an odd side is edge-padded by one pixel: measured with this PyAV/ffmpeg, libx264 refuses odd 4:2:0,
    the 4:4:4 it accepts is refused by many players (browsers, QuickTime, hardware decoders), and PyAV cannot
    write the container's crop fields. `.y4m` (raw 4:2:0) and `lossless` (x264 RGB) keep the exact size."""
    if lossless or Path(path).suffix.lower() == ".y4m":
        return width, height
    return width + width % 2, height + height % 2


def write_video(path: str | os.PathLike | BinaryIO, frames: Iterable[np.ndarray] | Video,
                fps: Fraction | None = None, lossless: bool = False, crf: int = 12) -> None:
    """Write frames atomically. `.y4m` is raw 4:2:0 (`lossless` → 4:4:4); anything else is H.264 mp4/mkv/mov:
    `lossless` uses x264 qp 0 in 4:4:4 RGB, otherwise a high-quality CRF (default 12) in 4:2:0 (odd sides
    edge-padded, see `written_size`). A binary file object (stdout) gets y4m."""
    if isinstance(frames, Video):
        fps = frames.fps if fps is None else fps
        frames = iter(frames.frames)
    if fps is None:
        raise InputError("write_video needs an fps")
    fps = Fraction(fps)
    if hasattr(path, "write"):
        _write(path, frames, fps, True, lossless, crf)
        return
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"cannot write {path}: the output must end in {', '.join(OUTPUT_SUFFIXES)}")
    with atomic_path(path) as tmp:
        _write(str(tmp), frames, fps, path.suffix.lower() == ".y4m", lossless, crf)


def _write(target, frames: Iterable[np.ndarray], fps: Fraction, is_y4m: bool, lossless: bool, crf: int) -> None:
    import av

    container = av.open(target, mode="w", format="yuv4mpegpipe" if is_y4m else None)
    try:
        stream = None
        for frame in frames:
            if stream is None:
                stream = _add_stream(container, is_y4m, lossless, crf, fps, frame.shape[1], frame.shape[0])
            pad = (stream.height - frame.shape[0], stream.width - frame.shape[1])
            if any(pad):
                frame = np.pad(frame, ((0, pad[0]), (0, pad[1]), (0, 0)), mode="edge")
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            for packet in stream.encode(video_frame):
                container.mux(packet)
        if stream is None:
            raise InputError("no frames to write")
        for packet in stream.encode():
            container.mux(packet)
    except BaseException:
        try:  # the first error is the one to report: after a broken pipe, closing fails too (PyAV's callback)
            container.close()
        except Exception:
            pass
        raise
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
        stream.pix_fmt = "yuv420p"
        width, height = width + width % 2, height + height % 2
    stream.width, stream.height = width, height
    return stream
