"""`genvc encode IN -o OUT.gvc`."""

from __future__ import annotations

import time

from genvc.codec import EncodeConfig, encode_file
from genvc.errors import InputError
from genvc.intra import codec_names
from genvc.methods import method_names


def register(subparsers) -> None:
    p = subparsers.add_parser("encode", help="encode a video file to .gvc",
                              description="Encode a video (any format PyAV reads) to a .gvc stream.")
    p.add_argument("input", help="input video file")
    p.add_argument("-o", "--output", required=True, help="output .gvc file (written atomically)")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--bpp", type=float, help="target bits per pixel for the whole file, e.g. 0.01")
    rate.add_argument("--keyframe-bytes", type=int, help="byte budget of each keyframe")
    p.add_argument("--interval", type=int, default=45, help="keyframe interval w in frames (default 45)")
    p.add_argument("--method", default="sketch", choices=method_names(),
                   help="how inner frames are coded (default sketch: the embedded small preset)")
    p.add_argument("--intra", default="av1", choices=codec_names(), help="keyframe codec (default av1)")
    p.add_argument("--no-shot-detection", action="store_true", help="keyframes by interval only (no TransNetV2)")
    p.add_argument("--frames", type=int, help="encode only the first N frames")
    p.add_argument("--model", help="model folder for learned methods (default: the embedded model)")
    p.add_argument("--level", type=int, default=2, choices=[0, 1, 2, 3], help="Multi-C condition level")
    p.add_argument("--text", help="caption for Multi-C text conditioning")
    p.add_argument("--tune", default="vmaf", choices=["vmaf", "psnr"],
                   help="sketch: run the refiner where it raises VMAF (default) or lowers MSE")
    p.add_argument("--workers", type=int, help="processes coding clips in parallel (default: the cores available, "
                   "as memory allows); the output is the same for any number")
    p.add_argument("--ray", nargs="?", const=_LOCAL_RAY, metavar="ADDRESS",
                   help="code clips on a Ray cluster: 'auto', HOST:PORT or ray://HOST:10001 (no address: a local "
                   "Ray instance); needs pip install 'genvc[ray]'")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=run)


_LOCAL_RAY = "local"


def ray_address(value: str | None) -> str | None | bool:
    """--ray's value as `EncodeConfig.ray` takes it: False without the flag, None for a local instance."""
    return False if value is None else None if value == _LOCAL_RAY else value


def run(args) -> int:
    if args.frames is not None and args.frames < 1:
        raise InputError(f"--frames must be at least 1, got {args.frames}")
    config = EncodeConfig(
        method=args.method, bpp=args.bpp, keyframe_bytes=args.keyframe_bytes, interval=args.interval,
        intra=args.intra, shot_detection=not args.no_shot_detection, model=args.model,
        method_options={"level": args.level, "text": args.text, "tune": args.tune}, progress=not args.quiet,
        workers=args.workers, ray=ray_address(args.ray),
    )
    started = time.perf_counter()
    result = encode_file(args.input, args.output, config, max_frames=args.frames)
    seconds = time.perf_counter() - started
    print(f"{result.path}: {result.num_bytes} bytes, {result.bpp:.5f} bpp, {result.num_frames} frames "
          f"{result.width}x{result.height}, {seconds:.1f} s")
    return 0
