"""`genvc demo`: the main job on a real sample — encode, decode, print rate and quality."""

from __future__ import annotations

import os
import time

from genvc.codec import EncodeConfig, decode, encode
from genvc.commands.common import format_fps
from genvc.io import read_video, write_video
from genvc.methods import method_names
from genvc.metrics import psnr_rgb, psnr_yuv
from genvc.metrics.suite import perceptual_metrics
from genvc.metrics.vmaf import vmaf
from genvc.samples import SAMPLES, sample_path
from genvc.utils.atomic import write_bytes_atomic


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="encode + decode a real sample video and print rate and quality",
                              description="Fetch a sample video (cached), encode it to .gvc with the default "
                              "model, decode it, and print bytes, bpp, PSNR and VMAF: of the decoded frames, and the "
                              "PSNR of the decoded .mp4 as written (H.264 CRF 12, which costs a little more).")
    p.add_argument("--sample", default="bikes", choices=list(SAMPLES), help="sample video")
    p.add_argument("--frames", type=int, default=90, help="frames to code")
    p.add_argument("--bpp", type=float, default=0.005, help="target bits per pixel")
    p.add_argument("--method", default="sketch", choices=method_names(),
                   help="how inner frames are coded (see genvc encode --help)")
    p.add_argument("-o", "--output-dir", default="genvc-demo",
                   help="where the .gvc and decoded .mp4 go (files from an earlier demo there are replaced)")
    p.set_defaults(run=run)


def _vmaf_text(video, decoded) -> str:
    score = vmaf(video.frames, decoded.frames, video.fps)
    return "" if score is None else f", VMAF {score:.1f}"


def _perceptual_text(video, decoded) -> str:
    """The papers' metrics first: LPIPS (AlexNet, every frame) and DISTS (sampled frames, as the bench)."""
    values = perceptual_metrics(video.frames, decoded.frames)
    if values["lpips"] is None:  # frames too small for AlexNet
        return ""
    return f"LPIPS {values['lpips']:.4f}, DISTS {values['dists']:.4f}, "


def run(args) -> int:
    video = read_video(sample_path(args.sample), max_frames=args.frames)
    os.makedirs(args.output_dir, exist_ok=True)
    gvc_path = os.path.join(args.output_dir, f"{args.sample}.gvc")
    mp4_path = os.path.join(args.output_dir, f"{args.sample}.decoded.mp4")

    started = time.perf_counter()
    data = encode(video, EncodeConfig(method=args.method, bpp=args.bpp, progress=True))
    encode_s = time.perf_counter() - started
    write_bytes_atomic(gvc_path, data)
    started = time.perf_counter()
    decoded = decode(data, progress=True)
    decode_s = time.perf_counter() - started
    write_video(mp4_path, decoded)
    # the file a user plays: its H.264 coding costs some quality too (cropped: odd sides are written padded)
    written = read_video(mp4_path).frames[:, :video.height, :video.width]

    num_bytes = os.path.getsize(gvc_path)  # the rate comes from the file on disk
    print(f"sample   {args.sample}: {video.num_frames} frames {video.width}x{video.height} @ {format_fps(video.fps)} fps")
    print(f"method   {args.method}")
    print(f"rate     {num_bytes} bytes = {num_bytes * 8 / video.num_pixels:.5f} bpp "
          f"(target {args.bpp}), {num_bytes * 8 * float(video.fps) / video.num_frames / 1000:.2f} kbit/s")
    print(f"quality  {_perceptual_text(video, decoded)}PSNR-RGB {psnr_rgb(video.frames, decoded.frames):.2f} dB, "
          f"PSNR-Y {psnr_yuv(video.frames, decoded.frames)['y']:.2f} dB" + _vmaf_text(video, decoded)
          + " (decoded frames)")
    print(f"         PSNR-RGB {psnr_rgb(video.frames, written):.2f} dB, PSNR-Y {psnr_yuv(video.frames, written)['y']:.2f} "
          f"dB ({os.path.basename(mp4_path)} as written, H.264 CRF 12)")
    print(f"speed    encode {encode_s:.1f} s, decode {decode_s:.1f} s "
          f"({video.num_pixels / decode_s / 1e6:.2f} Mpixel/s)")
    print(f"files    {gvc_path}, {mp4_path}")
    return 0
