"""What encode, decode and the other commands share: `-` for stdin/stdout (ffmpeg's convention), `-y/-n`
overwrite, `--threads`, and messages that never land on stdout when stdout carries the output."""

from __future__ import annotations

import argparse
import os
import sys

from genvc.errors import InputError

STDIO = "-"


def is_stdio(path) -> bool:
    return str(path) == STDIO


def add_overwrite_args(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("-y", dest="overwrite", action="store_const", const=True,
                       help="overwrite an existing output without asking")
    group.add_argument("-n", dest="overwrite", action="store_const", const=False,
                       help="never overwrite: an existing output is an error")
    p.set_defaults(overwrite=None)


def add_threads_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads for torch, OpenCV and ffmpeg's encoders (default: torch's and OpenCV's own "
                        "choice, ffmpeg's encoders auto)")


def set_threads(n: int | None) -> None:
    if n is None:
        return
    if n < 1:
        raise InputError(f"--threads must be at least 1, got {n}")
    import cv2
    import torch

    from genvc import ffmpeg

    torch.set_num_threads(n)
    cv2.setNumThreads(n)
    ffmpeg.ENCODER_THREADS = n


def check_output(path, overwrite: bool | None, stdin_in_use: bool = False) -> None:
    """ffmpeg's rule for an existing output: -y overwrites, -n refuses; with neither, ask when stdin is a
    terminal (and not the input), else refuse. Also checks the folder is writable, before any work."""
    from genvc.utils.atomic import check_writable

    if is_stdio(path):
        return
    check_writable(path)
    if not os.path.exists(path) or overwrite:
        return
    if overwrite is None and not stdin_in_use and sys.stdin is not None and sys.stdin.isatty():
        print(f"File '{path}' already exists. Overwrite? [y/N] ", end="", file=sys.stderr, flush=True)
        if sys.stdin.readline().strip().lower() in ("y", "yes"):
            return
        raise InputError(f"{path} exists; not overwritten")
    raise InputError(f"{path} exists; pass -y to overwrite it" if overwrite is None
                     else f"{path} exists; not overwritten (-n)")


def stdin_bytes(what: str) -> bytes:
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError(f"input '-' reads {what} from stdin, but stdin is a terminal; pipe it in")
    return sys.stdin.buffer.read()


def stdout_binary():
    """stdout for binary output, flushed of any text first."""
    sys.stdout.flush()
    return sys.stdout.buffer


def message_stream(output) -> object:
    """Where a command's summary goes: stdout, unless stdout carries the output itself."""
    return sys.stderr if is_stdio(output) else sys.stdout


def warn(text: str) -> None:
    print(f"genvc: warning: {text}", file=sys.stderr)


def format_fps(fps) -> str:
    """29.97 (30000/1001): a decimal a person reads, with the exact fraction when it is not a whole number."""
    from fractions import Fraction

    fps = Fraction(fps)
    if fps.denominator == 1:
        return str(fps.numerator)
    return f"{float(fps):.3f}".rstrip("0").rstrip(".") + f" ({fps.numerator}/{fps.denominator})"
