"""`genvc encode IN -o OUT.gvc`."""

from __future__ import annotations

import time

from genvc.commands.common import (
    add_overwrite_args, add_threads_arg, check_output, format_fps, is_stdio, message_stream, set_threads,
    stdout_binary, warn,
)
from genvc.errors import InputError
from genvc.intra import codec_names
from genvc.judge import DEFAULT_TUNE, TUNES
from genvc.presets import DEFAULT_PRESET, PRESETS
from genvc.methods import method_names

#: --bpp is "reached" when the file is at most this much over it (rate control lands within a few percent)
BPP_TOLERANCE = 0.05

DESCRIPTION = """\
Encode a video (any format PyAV reads; - reads one from stdin, e.g. y4m from ffmpeg) to a .gvc stream.

Rate: --bpp budgets the whole file (header and framing included). With neither --bpp nor --keyframe-bytes,
sketch codes each clip at 1/2 size with QP 45, and the keyframes of 1- and 2-frame clips are coded at the intra
codec's default quality (av1/vvc: CRF/QP 21, avif: quality 67), so a 1- or 2-frame video costs far more bits per
pixel than a clip. A --bpp below what the video can reach gives the smallest
stream the encoder can make, with a warning naming that floor.
"""

EPILOG = """\
examples:
  genvc encode in.mp4 -o out.gvc --bpp 0.005
  genvc encode in.mp4 -o out.gvc --start 300 --frames 90 --stats     # seek, then code 90 frames, print PSNR
  ffmpeg -i in.mov -f yuv4mpegpipe - | genvc encode - -o - --bpp 0.005 > out.gvc

An existing output is refused unless -y (or confirmed at the prompt when stdin is a terminal); -n never overwrites.
With -o -, the .gvc bytes go to stdout and every message to stderr.
"""


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser("encode", help="encode a video file to .gvc", description=DESCRIPTION,
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="input video file, or - for stdin")
    p.add_argument("-o", "--output", required=True, help="output .gvc file (written atomically), or - for stdout")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--bpp", type=float, help="target bits per pixel for the whole file, e.g. 0.005 "
                      "(default: none, see the rate note above)")
    rate.add_argument("--keyframe-bytes", type=int, help="byte budget of each keyframe")
    rate.add_argument("--crf", type=float, metavar="N",
                      help="constant quality, no byte target (sketch): every clip at the scale and QP rule N gives "
                      "(N is the QP at full size; past genvc.presets.TARGET_QP part of it goes into a smaller "
                      "picture); the size falls as N rises; 0-79, e.g. 40 (default: none)"),
    p.add_argument("--interval", type=int, default=45, help="keyframe interval w in frames")
    p.add_argument("--method", default="sketch", choices=method_names(),
                   help="how inner frames are coded (sketch: the embedded small preset)")
    p.add_argument("--intra", default="av1", choices=codec_names(), help="keyframe codec")
    p.add_argument("--no-shot-detection", action="store_true", help="keyframes by interval only (no TransNetV2)")
    p.add_argument("--start", type=int, default=0, metavar="N", help="skip the first N frames (seek)")
    p.add_argument("--frames", type=int, metavar="N", help="encode only N frames (from --start)")
    p.add_argument("--model", help="model folder for learned methods (default: the embedded model)")
    p.add_argument("--level", type=int, default=2, choices=[0, 1, 2, 3], help="Multi-C condition level")
    p.add_argument("--text", help="caption for Multi-C text conditioning")
    p.add_argument("--tune", default=DEFAULT_TUNE, choices=TUNES,
                   help="what the encoder's measured decisions (scale, generator on/off, restorer settings, "
                   "candidates) maximise: LPIPS or DISTS (the papers' perceptual metrics), VMAF, VMAF NEG (no "
                   "credit for sharpening) or PSNR (default: %(default)s)")
    p.add_argument("--preset", default=DEFAULT_PRESET, choices=list(PRESETS),
                   help="how much the encoder's decisions search (as vvenc's and x265's presets): slow measures "
                   "every scale with the generator in the judge; medium predicts the scale from one probe and "
                   "searches its neighbours; fast codes the predicted scale (genvc.presets)")
    p.add_argument("--generator", default="auto", choices=["auto", "off"],
                   help="auto: the encoder measures, per clip, whether the generator improves it; off: never run "
                   "it (decodes at the speed of vvdec and OpenCV, e.g. for long videos on a CPU)")
    p.add_argument("--stats", action="store_true",
                   help="also decode the stream and print its LPIPS, DISTS, PSNR (and VMAF where libvmaf is "
                   "available)")
    add_threads_arg(p)
    add_overwrite_args(p)
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
    from pathlib import Path

    from genvc.bitstream import read_stream
    from genvc.codec import EncodeConfig, encode, encode_file
    from genvc.io import read_video
    from genvc.io.source import FileSource, MemorySource
    from genvc.utils.atomic import write_bytes_atomic

    if args.frames is not None and args.frames < 1:
        raise InputError(f"--frames must be at least 1, got {args.frames}")
    if args.start < 0:
        raise InputError(f"--start must be at least 0, got {args.start}")
    set_threads(args.threads)
    config = EncodeConfig(
        method=args.method, bpp=args.bpp, keyframe_bytes=args.keyframe_bytes, interval=args.interval,
        intra=args.intra, shot_detection=not args.no_shot_detection, model=args.model,
        method_options={"level": args.level, "text": args.text, "tune": args.tune, "preset": args.preset,
                        "crf": args.crf,
                        "generator": args.generator == "auto"}, progress=not args.quiet,
        workers=args.workers, ray=ray_address(args.ray),
    )
    config.validate()
    check_output(args.output, args.overwrite, stdin_in_use=is_stdio(args.input))  # before the (long) encode
    started = time.perf_counter()
    if is_stdio(args.input) or is_stdio(args.output):  # pipes: the video and the stream in memory
        video = read_video(args.input, max_frames=args.frames, start=args.start)
        source = MemorySource(video)  # what --stats compares with
        data = encode(video, config)
        if is_stdio(args.output):
            stdout_binary().write(data)
            stdout_binary().flush()
        else:
            write_bytes_atomic(args.output, data)
    else:  # files: streamed, memory independent of the video's length
        encode_file(args.input, args.output, config, max_frames=args.frames, start=args.start)
        data = Path(args.output).read_bytes()
        source = FileSource(args.input, args.frames, args.start) if args.stats else None  # read again, streamed
    seconds = time.perf_counter() - started

    out = message_stream(args.output)
    header = read_stream(data).header
    num_pixels = header.num_frames * header.width * header.height
    bpp = len(data) * 8 / num_pixels
    print(f"{args.output}: {len(data)} bytes, {bpp:.5f} bpp, {header.num_frames} frames "
          f"{header.width}x{header.height} @ {format_fps(header.fps)} fps, {seconds:.1f} s", file=out)
    print(stats_line(data, source if args.stats else None), file=out)
    if args.frames is not None and header.num_frames < args.frames:  # asked for more than the video holds
        warn(f"--frames {args.frames}: the input has {header.num_frames} frames from frame {args.start}; "
             f"all {header.num_frames} were coded")
    if args.bpp is not None and bpp > args.bpp * (1 + BPP_TOLERANCE):
        warn(f"--bpp {args.bpp:g} cannot be reached for this video: the stream is at its floor, {bpp:.5f} bpp "
             f"({len(data)} bytes, {bpp / args.bpp:.1f}x the target)")
    return 0


def stats_line(data: bytes, source=None) -> str:
    """One line: bytes per clip with its mode (sketch: scale, QP, generator), and with `source` (a
    `genvc.io.source.FrameSource`), a second: the decoded stream's PSNR and VMAF against it."""
    from genvc.commands.info import describe

    parts = []
    for clip in describe(data)["clips"]:
        text = f"[{clip['start']}-{clip['end']}] {clip['bytes']} B {clip['mode']}"
        if "sketch" in clip:
            s = clip["sketch"]
            text += f" 1/{s['scale']:g} QP {s['qp']} generator {'on' if s['generator'] else 'off'}"
        parts.append(text)
    line = "  clips: " + "; ".join(parts)
    if source is not None:
        line += "\n  quality: " + _quality(data, source)
    return line


def _quality(data: bytes, source) -> str:
    """PSNR-RGB, PSNR-Y, VMAF, LPIPS (every frame) and DISTS (on `vgg_sample` frames, as the bench) of the decoded
    stream against `source`, streamed frame by frame (memory does not grow with the video's length)."""
    from fractions import Fraction

    import numpy as np

    from genvc.codec import iter_decode
    from genvc.io.source import counted
    from genvc.judge import VMAF_MIN_SIDE
    from genvc.metrics.color import rgb_to_yuv
    from genvc.metrics.dists import dists_per_frame, load_dists
    from genvc.metrics.lpips import MIN_SIDE as LPIPS_MIN_SIDE
    from genvc.metrics.lpips import load_lpips, lpips_per_frame
    from genvc.metrics.psnr import frame_mse, psnr_from_mse
    from genvc.metrics.suite import MetricConfig, vgg_sample
    from genvc.metrics.vmaf import streamed_vmaf

    header, decoded = iter_decode(data)
    mse_rgb, mse_y, lpips, dists = [], [], [], []
    perceptual = min(header.width, header.height) >= LPIPS_MIN_SIDE
    lpips_model, dists_model = (load_lpips("alex"), load_dists()) if perceptual else (None, None)
    sampled = set(vgg_sample(header.num_frames, MetricConfig.vgg_frames).tolist())

    def pairs():
        for (index, original), frame in zip(counted(source.frames(), header.num_frames, "the input"), decoded):
            mse_rgb.append(frame_mse(original[None], frame[None])[0])
            mse_y.append(frame_mse(rgb_to_yuv(original)[None, ..., 0], rgb_to_yuv(frame)[None, ..., 0])[0])
            if perceptual:
                lpips.append(lpips_per_frame(lpips_model, original[None], frame[None])[0])
            if perceptual and index in sampled:
                dists.append(dists_per_frame(dists_model, original[None], frame[None])[0])
            yield original, frame

    if min(header.width, header.height) >= VMAF_MIN_SIDE:
        score = streamed_vmaf(pairs(), Fraction(header.fps))
    else:
        score = None
        for _ in pairs():
            pass
    text = (f"LPIPS {np.mean(lpips):.4f}, DISTS {np.mean(dists):.4f}, " if perceptual else "LPIPS n/a, DISTS n/a, ")
    text += f"PSNR-RGB {psnr_from_mse(mse_rgb):.2f} dB, PSNR-Y {psnr_from_mse(mse_y):.2f} dB"
    return text + (", VMAF n/a" if score is None else f", VMAF {score:.1f}")
