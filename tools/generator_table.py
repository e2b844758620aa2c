"""The generator's RD table: genvc's generative methods against the zero-bit `interp` at the same bpp.

    python tools/generator_table.py --videos carphone bikes --bpp 0.005 0.01 0.02 --frames 45 -o out.md

Each point is a real encode to bytes on disk and a decode (`genvc.bench.genvc_adapter.run_genvc`): the rate is
the file's size. `flowib` runs with the embedded generator and decides its h share by measurement; `flowib@0`
forces no h (the generator refines the receiver's prediction alone) and `flowib@off` is the same stream decoded
by the zero-initialised generator, i.e. `interp`: the learned parts' contributions are the differences.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from genvc.bench.genvc_adapter import run_genvc
from genvc.io import read_video
from genvc.metrics import psnr_yuv
from genvc.metrics.vmaf import vmaf
from genvc.samples import sample_path

#: method label -> (method, encode options)
METHODS = {
    "interp": ("interp", {}),
    "flowib@0": ("flowib", {"method_options": {"side_fraction": 0.0}}),
    "flowib": ("flowib", {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", nargs="+", default=["carphone", "bikes"])
    parser.add_argument("--bpp", nargs="+", type=float, default=[0.005, 0.01, 0.02])
    parser.add_argument("--frames", type=int, default=45)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("-o", "--output", default="generator_table.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.videos:
            path = Path(name) if Path(name).is_file() else sample_path(name)
            video = read_video(path, max_frames=args.frames)
            for bpp in args.bpp:
                for label in args.methods:
                    method, options = METHODS[label]
                    run = run_genvc(video, bpp, method, Path(tmp) / "s.gvc", options)
                    row = {"video": name, "target": bpp, "method": label,
                           "bpp": run.size * 8 / video.num_pixels,
                           "psnr_y": psnr_yuv(video.frames, run.frames)["y"],
                           "vmaf": vmaf(video.frames, run.frames),
                           "encode_s": run.encode_seconds, "decode_s": run.decode_seconds,
                           "decode_mpix_s": video.num_pixels / max(run.decode_seconds, 1e-9) / 1e6,
                           "decode_peak_mb": run.decode_peak_mb}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    lines = ["| video | target bpp | method | bpp | PSNR-Y | VMAF | encode s | decode Mpix/s | decode peak MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        v = "n/a" if r["vmaf"] is None else f"{r['vmaf']:.1f}"
        lines.append(f"| {r['video']} | {r['target']} | {r['method']} | {r['bpp']:.5f} | {r['psnr_y']:.2f} | {v} | "
                     f"{r['encode_s']:.1f} | {r['decode_mpix_s']:.2f} | {r['decode_peak_mb']:.0f} |")
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
