"""Atomic file output: write to a temporary sibling, rename over the target only on success.

A crash, an exception or Ctrl-C never leaves a partial file at the target path. The file gets the mode an
ordinary `open(target, "w")` would give it: an existing target's mode, else 0o666 less the umask.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Iterator

from genvc.errors import InputError


def check_writable(target: str | os.PathLike) -> Path:
    """The directory `target` will be written to; InputError if it cannot be (checked before any work)."""
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError(f"output path is a directory: {target}")
    if directory.exists() and not directory.is_dir():
        raise InputError(f"output directory is not a directory: {directory}")
    if not directory.is_dir():
        raise InputError(f"output directory does not exist: {directory}")
    if not os.access(directory, os.W_OK):
        raise InputError(f"output directory is not writable: {directory}")
    return directory


def _create_temp(directory: Path, target: Path) -> Path:
    # Not tempfile.mkstemp: it creates 0o600 files, and the rename would keep that private mode.
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = None
    while True:
        tmp = directory / f".{target.name}.{secrets.token_hex(4)}.part{target.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
        except FileExistsError:
            continue
        try:
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        return tmp


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `target`; on clean exit it replaces `target` atomically."""
    target = Path(target)
    directory = check_writable(target)
    tmp_path = _create_temp(directory, target)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        # BaseException too: KeyboardInterrupt must not leave the .part file behind.
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes_atomic(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
