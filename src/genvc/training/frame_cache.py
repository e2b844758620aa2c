"""Decode each training video once, resized, into a uint8 .npy file that clips are then memory-mapped from.

On a few CPU cores decoding dominates training time; random access into a cached array costs nothing. The cache
key covers the file (path, size, mtime) and the resize, so changing either re-decodes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from genvc.errors import InputError
from genvc.io.video import iter_frames
from genvc.utils.atomic import atomic_path

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".y4m", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".gif"}


def find_videos(folder: str | os.PathLike, pattern: str | None = None, exclude: list[str] = ()) -> list[Path]:
    """Sorted video files under `folder`: those matching `pattern`, or every file with a video extension; less those
    matching a glob of `exclude` (relative to `folder`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"data.folder is not a directory: {folder}")
    if pattern:
        files = [p for p in folder.glob(pattern) if p.is_file()]
    else:
        files = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS]
    files = [p for p in files if not any(fnmatch.fnmatch(str(p.relative_to(folder)), e) for e in exclude)]
    if not files:
        raise InputError(f"no videos found in {folder}" + (f" matching {pattern!r}" if pattern else ""))
    return sorted(files)


def resized_shape(height: int, width: int, resize: int | tuple[int, int] | None) -> tuple[int, int]:
    if resize is None:
        return height, width
    if isinstance(resize, int):
        scale = resize / min(height, width)
        return max(1, round(height * scale)), max(1, round(width * scale))
    return tuple(resize)


def cache_key(path: Path, resize: int | tuple[int, int] | None) -> str:
    stat = path.stat()
    ident = json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, resize])
    return hashlib.sha1(ident.encode()).hexdigest()[:16]


def cached_frames_path(path: Path, resize, cache_dir: Path) -> Path:
    return cache_dir / f"{path.stem[:40]}-{cache_key(path, resize)}.npy"


def build_frame_cache(videos: list[Path], resize, cache_dir: Path) -> list[Path]:
    """Decode (and resize) every video not yet cached; return the .npy path of each video."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    targets = [cached_frames_path(v, resize, cache_dir) for v in videos]
    todo = [(v, t) for v, t in zip(videos, targets) if not t.exists()]
    for video, target in tqdm(todo, desc="decoding videos", unit="video", disable=None):
        frames = [_resize(f, resize) for f in iter_frames(video)]
        if not frames:
            raise InputError(f"{video} contains no decodable video frames")
        if len({f.shape for f in frames}) != 1:
            raise InputError(f"{video} changes frame size mid-stream; re-encode it or set data.resize to [h, w]")
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, np.stack(frames))
                f.flush()
                os.fsync(f.fileno())
    return targets


def _resize(frame: np.ndarray, resize) -> np.ndarray:
    h, w = resized_shape(frame.shape[0], frame.shape[1], resize)
    if (h, w) == frame.shape[:2]:
        return frame
    # INTER_AREA when shrinking avoids aliasing; linear when enlarging.
    interp = cv2.INTER_AREA if h * w < frame.shape[0] * frame.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(frame, (w, h), interpolation=interp)


class DecodedVideo:
    """Array-like view of a video file that decodes (and resizes) only the frames a clip asks for: the
    `data.cache: false` path, for datasets too large to keep decoded. Indexing: [start:stop:step, rows, cols]."""

    def __init__(self, path: Path, resize) -> None:
        import av

        self.path, self.resize = Path(path), resize
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            # Counting packets demuxes without decoding: cheap, and exact where stream.frames is missing.
            count = sum(1 for packet in container.demux(stream) if packet.size)
            h, w = resized_shape(stream.codec_context.height, stream.codec_context.width, resize)
        self.shape = (count, h, w, 3)

    def __getitem__(self, index) -> np.ndarray:
        frames, *rest = index if isinstance(index, tuple) else (index,)
        start, stop, step = frames.indices(self.shape[0])
        decoded = list(iter_frames(self.path, max_frames=max(0, stop - start), start=start))[::step]
        out = np.stack([_resize(f, self.resize) for f in decoded])
        return out[(slice(None), *rest)] if rest else out


def open_frames(path: Path, resize) -> np.ndarray | DecodedVideo:
    """A cached .npy (memory-mapped) or, for any other file, a `DecodedVideo`."""
    if path.suffix == ".npy":
        return np.load(path, mmap_mode="r")
    return DecodedVideo(path, resize)
