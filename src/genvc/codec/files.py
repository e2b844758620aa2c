"""The CLI's file helpers: encode a video file to a `.gvc` written atomically, and decode one to a video file."""

from __future__ import annotations

import os

from genvc.bitstream import StreamHeader
from genvc.codec.config import EncodeConfig, EncodeResult
from genvc.codec.decoder import iter_decode
from genvc.codec.search import encode_stream
from genvc.errors import InputError
from genvc.io import write_video
from genvc.io.source import FileSource
from genvc.utils.atomic import atomic_path, check_writable


def encode_file(input_path: str | os.PathLike, output_path: str | os.PathLike, config: EncodeConfig,
                max_frames: int | None = None, start: int = 0) -> EncodeResult:
    """Encode a video file as a stream: memory holds a few clip windows, and the `.gvc` is written as it is coded,
    to a temporary file renamed over `output_path` only when complete."""
    check_writable(output_path)  # fail before the (long) encode, not after it
    source = FileSource(input_path, max_frames=max_frames, start=start)
    with atomic_path(output_path) as tmp:
        with open(tmp, "wb") as f:
            header = encode_stream(source, f, config)
            f.flush()
            os.fsync(f.fileno())
        size = os.path.getsize(tmp)
    return EncodeResult(str(output_path), size, header.num_frames, header.width, header.height)


def read_gvc(path: str | os.PathLike) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"is a directory: {path}") from None
    except PermissionError:
        raise InputError(f"cannot read: {path}") from None


def decode_file(input_path: str | os.PathLike, output_path: str | os.PathLike, model: str | None = None,
                lossless: bool = False, progress: bool = False) -> StreamHeader:
    header, frames = iter_decode(read_gvc(input_path), model=model, progress=progress)
    write_video(output_path, frames, header.fps, lossless=lossless)
    return header

