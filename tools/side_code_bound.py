"""How much PSNR any side code on top of the keyframes can buy at a clip's rate: a bound measured with vvenc.

    python tools/side_code_bound.py --videos carphone bikes --bpp 0.005 0.01 0.02 --frames 45 -o bound.md

`flowib` and `multic` send the two keyframes plus side information (h, conditions) and are measured against
`interp`, the keyframes alone at the whole budget. This script asks what a far stronger side code than ours would
give at the same bytes: the keyframes are coded at (1 − share) of the budget (a real `interp` encode, whose
decode is the receiver's prediction P), and the residual x − P of every frame is coded by vvenc, the sketch's
codec (its own motion search, QP searched to fit the share left, at 1/scale of the size), then added back.
vvenc on the residual stands in for the side code of a trained conditional codec; a CPU-trained h of 1 M
parameters does not code residuals better than vvenc does. A target above the best row here is out of reach
for any side code of that strength at that rate. PSNR-Y over all frames; rates from bytes actually coded.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from genvc.bench.genvc_adapter import run_genvc
from genvc.inter import decode_sketch, encode_sketch
from genvc.io import read_video
from genvc.metrics import psnr_yuv
from genvc.samples import sample_path


def residual_coded(frames: np.ndarray, prediction: np.ndarray, budget: int, fps: float, scale: float
                   ) -> tuple[np.ndarray, int] | None:
    """P + the vvenc-coded residual of the inner frames (at 1/`scale`, in at most `budget` bytes: the first and
    last frames are the keyframes as decoded) and its size; None where even the coarsest QP overshoots."""
    inner = slice(1, len(frames) - 1)
    residual = np.clip(frames[inner].astype(np.int16) - prediction[inner] + 128, 0, 255).astype(np.uint8)
    code = encode_sketch(residual, budget, fps, scale=scale)
    if len(code.data) > budget:
        return None
    t, h, w = residual.shape[:3]
    out = prediction.copy()
    decoded = decode_sketch(code.data, w, h, scale, t).astype(np.int16) - 128
    out[inner] = np.clip(prediction[inner] + decoded, 0, 255)
    return out, len(code.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", nargs="+", default=["carphone"])
    parser.add_argument("--bpp", nargs="+", type=float, default=[0.005, 0.01, 0.02])
    parser.add_argument("--frames", type=int, default=45)
    parser.add_argument("--shares", nargs="+", type=float, default=[0.3, 0.5], help="the residual's share")
    parser.add_argument("--scales", nargs="+", type=float, default=[1.0, 2.0])
    parser.add_argument("-o", "--output", default="side_code_bound.md")
    args = parser.parse_args()
    lines = ["| video | target bpp | interp PSNR-Y | keyframes share | P PSNR-Y | residual scale | residual bytes | "
             "total bpp | PSNR-Y | gain over interp (dB) |", "|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        stream = Path(tmp) / "s.gvc"
        for name in args.videos:
            path = Path(name) if Path(name).is_file() else sample_path(name)
            video = read_video(path, max_frames=args.frames)
            frames, fps = video.frames, float(video.fps)
            for bpp in args.bpp:
                budget = bpp * video.num_pixels / 8
                interp = psnr_yuv(frames, run_genvc(video, bpp, "interp", stream).frames)["y"]
                for share in args.shares:
                    keys = run_genvc(video, bpp * (1 - share), "interp", stream)
                    base = psnr_yuv(frames, keys.frames)["y"]
                    for scale in args.scales:
                        coded = residual_coded(frames, keys.frames, int(budget - keys.size), fps, scale)
                        row = {"video": name, "target": bpp, "interp": interp, "share": 1 - share, "p": base,
                               "scale": scale, "residual_bytes": None if coded is None else coded[1]}
                        line = f"| {name} | {bpp} | {interp:.2f} | {1 - share:.1f} | {base:.2f} | 1/{scale:g} | "
                        if coded is None:
                            lines.append(line + "does not fit | | | |")
                        else:
                            row["psnr_y"] = psnr_yuv(frames, coded[0])["y"]
                            total = (keys.size + coded[1]) * 8 / video.num_pixels
                            lines.append(line + f"{coded[1]} | {total:.5f} | {row['psnr_y']:.2f} | "
                                         f"{row['psnr_y'] - interp:+.2f} |")
                        print(json.dumps(row), flush=True)
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
