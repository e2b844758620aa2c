"""The generator's RD table: each method on the embedded generator against the same pipeline without it.

    python tools/generator_table.py --videos carphone bikes --bpp 0.005 0.01 0.02 --frames 45 -o out.md
    python tools/generator_table.py --videos /tmp/genvc-media/videos/sports2d/demo.mp4 --width 640 ...

Each point is a real encode to bytes on disk and a decode (`genvc.bench.genvc_adapter.run_genvc`): the rate is
the file's size. `sketch` is the default (the encoder decides per clip, by measurement, whether the generator
restores the sketch); `sketch@off` is the same encoder with the generator off. `flowib` decides its h share by
measurement; `keys` is `interp` between keyframes the generator restored (no h, no flow); `flowib@0` forces no h
(restored keyframes, then the flow refines the receiver's prediction alone); `interp` is the zero-bit floor. The
learned parts' contributions are the differences. `--width` resizes a video first (Lanczos, as a user would before
encoding), e.g. a held-out 1768×994 source. VMAF NEG (libvmaf's model without enhancement gain) says how much of a
VMAF gain sharpening alone would explain.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from genvc.bench.genvc_adapter import run_genvc
from genvc.io import read_video
from genvc.io.video import Video
from genvc.metrics import psnr_yuv
from genvc.metrics.vmaf import VMAF_NEG, vmaf
from genvc.samples import sample_path

#: method label -> (method, encode options)
METHODS = {
    "sketch": ("sketch", {}),
    "sketch@off": ("sketch", {"method_options": {"generator": False}}),
    "interp": ("interp", {}),
    "keys": ("flowib", {"method_options": {"side_fraction": 0.0, "flow": False}}),
    "flowib@0": ("flowib", {"method_options": {"side_fraction": 0.0}}),
    "flowib": ("flowib", {}),
    "multic": ("multic", {}),
}


def _resized(video: Video, width: int) -> Video:
    height = 2 * round(video.height * width / video.width / 2)
    frames = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_LANCZOS4) for f in video.frames])
    return replace(video, frames=frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", nargs="+", default=["carphone", "bikes"])
    parser.add_argument("--bpp", nargs="+", type=float, default=[0.005, 0.01, 0.02])
    parser.add_argument("--frames", type=int, default=45)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--width", type=int, help="resize each video to this width first (Lanczos, even height)")
    parser.add_argument("-o", "--output", default="generator_table.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.videos:
            path = Path(name) if Path(name).is_file() else sample_path(name)
            video = read_video(path, max_frames=args.frames)
            if args.width:
                video = _resized(video, args.width)
            for bpp in args.bpp:
                for label in args.methods:
                    method, options = METHODS[label]
                    run = run_genvc(video, bpp, method, Path(tmp) / "s.gvc", options)
                    row = {"video": name, "target": bpp, "method": label,
                           "bpp": run.size * 8 / video.num_pixels,
                           "psnr_y": psnr_yuv(video.frames, run.frames)["y"],
                           "vmaf": vmaf(video.frames, run.frames),
                           # VMAF without its enhancement gain: how much of a VMAF gain sharpening alone explains
                           "vmaf_neg": vmaf(video.frames, run.frames, model=VMAF_NEG),
                           "encode_s": run.encode_seconds, "decode_s": run.decode_seconds,
                           "decode_mpix_s": video.num_pixels / max(run.decode_seconds, 1e-9) / 1e6,
                           "decode_peak_mb": run.decode_peak_mb}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    lines = ["| video | target bpp | method | bpp | PSNR-Y | VMAF | VMAF NEG | encode s | decode Mpix/s | "
             "decode peak MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        v, n = ("n/a" if r[k] is None else f"{r[k]:.1f}" for k in ("vmaf", "vmaf_neg"))
        lines.append(f"| {r['video']} | {r['target']} | {r['method']} | {r['bpp']:.5f} | {r['psnr_y']:.2f} | {v} | "
                     f"{n} | {r['encode_s']:.1f} | {r['decode_mpix_s']:.2f} | {r['decode_peak_mb']:.0f} |")
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
