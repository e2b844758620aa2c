"""`genvc decode IN.gvc -o OUT.mp4|.mkv|.mov|.y4m|-`."""

from __future__ import annotations

import argparse
import sys
import time

from genvc.commands.common import (
    add_overwrite_args, add_threads_arg, check_output, format_fps, is_stdio, message_stream, set_threads,
    stdin_bytes, stdout_binary,
)

DESCRIPTION = """\
Decode a .gvc stream to a video: .mp4, .mkv or .mov (H.264 4:2:0, CRF 12) or .y4m (raw 4:2:0); -o - writes y4m
to stdout (e.g. | ffplay -), and input - reads the .gvc from stdin.

H.264 4:2:0 needs even sides: an odd-sized video (e.g. 720x405) is written to mp4/mkv/mov one pixel larger on the
odd side (edge-padded; a note says so), which every player plays. .y4m and --lossless keep the exact size.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("decode", help="decode a .gvc file to a video", description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="input .gvc file, or - for stdin")
    p.add_argument("-o", "--output", required=True,
                   help="output video: .mp4, .mkv, .mov or .y4m (written atomically), or - for y4m on stdout")
    p.add_argument("--model", help="model folder, if the stream was coded with a non-default model")
    p.add_argument("--lossless", action="store_true",
                   help="write losslessly (mp4/mkv/mov: x264 RGB qp 0; y4m: 4:4:4) for evaluation")
    add_threads_arg(p)
    add_overwrite_args(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    from genvc.codec import iter_decode, read_gvc
    from genvc.io import write_video
    from genvc.io.video import written_size

    set_threads(args.threads)
    check_output(args.output, args.overwrite, stdin_in_use=is_stdio(args.input))
    started = time.perf_counter()
    data = stdin_bytes("a .gvc stream") if is_stdio(args.input) else read_gvc(args.input)
    header, frames = iter_decode(data, model=args.model, progress=not args.quiet)
    out = message_stream(args.output)
    target = stdout_binary() if is_stdio(args.output) else args.output
    write_video(target, frames, header.fps, lossless=args.lossless)
    seconds = time.perf_counter() - started
    # the size written: H.264 4:2:0 files pad an odd side by one pixel (see `written_size`); stdout gets y4m
    size = (header.width, header.height) if is_stdio(args.output) else \
        written_size(args.output, header.width, header.height, args.lossless)
    print(f"{args.output}: {header.num_frames} frames {size[0]}x{size[1]} @ {format_fps(header.fps)} fps, "
          f"{seconds:.1f} s ({header.num_frames / seconds:.1f} frames/s)", file=out)
    if size != (header.width, header.height):
        print(f"genvc: note: the stream is {header.width}x{header.height}, which has an odd side; {args.output} is "
              f"H.264 4:2:0 at {size[0]}x{size[1]} (edge-padded, plays everywhere); write .y4m or use --lossless for "
              "the exact size", file=sys.stderr)
    return 0
