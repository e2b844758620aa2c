"""A video read as a stream of frames, as many times as the encoder needs (a scan, then the coding pass), so
memory holds a clip's window, never the whole video."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterator

import numpy as np

from genvc.errors import InputError
from genvc.io.video import Video, check_size, estimated_frames, iter_frames, probe_video


class FrameSource:
    width: int
    height: int
    fps: Fraction
    #: how many frames a pass is expected to yield (a progress bar's total), None if unknown; passes count for real
    expected_frames: int | None = None

    def frames(self) -> Iterator[np.ndarray]:
        """One pass over the frames, uint8 H×W×3 each, all of the source's size (InputError otherwise)."""
        raise NotImplementedError


class MemorySource(FrameSource):
    def __init__(self, video: Video) -> None:
        self.video = video
        self.width, self.height, self.fps = video.width, video.height, video.fps
        self.expected_frames = video.num_frames

    def frames(self) -> Iterator[np.ndarray]:
        return iter(self.video.frames)


class FileSource(FrameSource):
    """Frames decoded from a file on every pass (decoding twice costs less than holding a long video)."""

    def __init__(self, path: str | os.PathLike, max_frames: int | None = None, start: int = 0) -> None:
        if max_frames is not None and max_frames < 1:
            raise InputError(f"max_frames must be at least 1, got {max_frames}")
        if start < 0:
            raise InputError(f"start must be at least 0, got {start}")
        self.path, self.max_frames, self.start = path, max_frames, start
        self.width, self.height, self.fps = probe_video(path)
        check_size(self.width, self.height)
        declared = estimated_frames(path)
        if declared is not None:
            self.expected_frames = max(0, declared - start)
            if max_frames is not None:
                self.expected_frames = min(self.expected_frames, max_frames)

    def frames(self) -> Iterator[np.ndarray]:
        shape = (self.height, self.width, 3)
        for frame in iter_frames(self.path, max_frames=self.max_frames, start=self.start):
            if frame.shape != shape:
                raise InputError(f"{self.path} changes frame size mid-stream ({frame.shape[1]}x{frame.shape[0]} "
                                 f"after {self.width}x{self.height}); genvc needs one size")
            yield frame


def counted(frames: Iterator[np.ndarray], num_frames: int, what: str) -> Iterator[tuple[int, np.ndarray]]:
    """(index, frame) for exactly `num_frames` frames: a source that yields fewer on this pass than on its scan
    (truncated or changed while reading) is an InputError, not a short stream."""
    index = -1
    for index, frame in enumerate(frames):
        if index == num_frames:
            return
        yield index, frame
    if index + 1 < num_frames:
        raise InputError(f"{what} ended after {index + 1} of the {num_frames} frames it had when scanned "
                         f"(truncated or changed while reading)")
