"""`genvc decode IN.gvc -o OUT.mp4|.y4m`."""

from __future__ import annotations

import time

from genvc.codec import decode_file


def register(subparsers) -> None:
    p = subparsers.add_parser("decode", help="decode a .gvc file to a video",
                              description="Decode a .gvc stream to mp4 (H.264) or y4m (raw).")
    p.add_argument("input", help="input .gvc file")
    p.add_argument("-o", "--output", required=True, help="output video: .mp4, .mkv or .y4m (written atomically)")
    p.add_argument("--model", help="model folder, if the stream was coded with a non-default model")
    p.add_argument("--lossless", action="store_true",
                   help="write losslessly (mp4: x264 RGB qp 0; y4m: 4:4:4) for evaluation")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    started = time.perf_counter()
    header = decode_file(args.input, args.output, model=args.model, lossless=args.lossless,
                         progress=not args.quiet)
    seconds = time.perf_counter() - started
    print(f"{args.output}: {header.num_frames} frames {header.width}x{header.height} @ {header.fps} fps, "
          f"{seconds:.1f} s ({header.num_frames / seconds:.1f} frames/s)")
    return 0
