"""What each trained restorer adds to the same coded sketches of a held-out video, in the papers' metrics: one table
(LPIPS, LPIPS-VGG, DISTS beside VMAF NEG and PSNR-Y) and a crop sheet to look at.

    python tools/perceptual_ablation.py data/videos/sports2d/demo.mp4 --height 360 \
        --models "L1 (embedded)=" "L1+LPIPS=runs/abl-lpips/model" ... -o ablation/

`--models LABEL=DIR` (an empty DIR: the embedded model). Frames `--start`…+`--frames` are resized (short side
`--height`), coded as sketches at each `--sketches` scale:QP the way the training data is
(`genvc.training.sketch_cache.code_video`), upsampled as the decoder does, then restored by each model told the
sketch's own scale and QP. "sketch" is the upsampled sketch alone (the generator off). The table goes to
`OUT/ablation.md`, the crops (original | sketch | each model, at each setting) to `OUT/crops.png`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from genvc.io import read_video
from genvc.methods.generative import load_pixelflow, restore_sketch
from genvc.metrics.color import rgb_to_yuv
from genvc.metrics.psnr import frame_mse, psnr_from_mse
from genvc.metrics.suite import perceptual_metrics
from genvc.metrics.vmaf import VMAF_NEG, vmaf
from genvc.training.frame_cache import _resize
from genvc.training.sketch_cache import code_video, upsampled

CROP = 160


def measure(reference: np.ndarray, frames: np.ndarray) -> dict[str, float]:
    out = perceptual_metrics(reference, frames, vgg_frames=5)
    out["vmaf_neg"] = vmaf(reference, frames, model=VMAF_NEG)
    out["psnr_y"] = psnr_from_mse(frame_mse(rgb_to_yuv(reference)[..., 0], rgb_to_yuv(frames)[..., 0]))
    return out


def crop_of(frame: np.ndarray) -> np.ndarray:
    """The CROP×CROP window with the most detail (largest Laplacian energy on a coarse grid) of the original."""
    h, w = frame.shape[:2]
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    energy = np.abs(cv2.Laplacian(gray, cv2.CV_32F))
    best = max(((y, x) for y in range(0, h - CROP + 1, CROP // 4) for x in range(0, w - CROP + 1, CROP // 4)),
               key=lambda p: energy[p[0]:p[0] + CROP, p[1]:p[1] + CROP].sum())
    return np.array(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video")
    parser.add_argument("--models", nargs="+", default=["embedded="], metavar="LABEL=DIR")
    parser.add_argument("--height", type=int, default=360, help="resize to this short side first")
    parser.add_argument("--start", type=int, default=60)
    parser.add_argument("--frames", type=int, default=15)
    parser.add_argument("--sketches", nargs="+", default=["1:42", "2:40", "3:40"], help="scale:QP pairs")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(2)
    args.output.mkdir(parents=True, exist_ok=True)
    models = [(label, load_pixelflow(folder or None)) for label, folder in (m.split("=", 1) for m in args.models)]
    frames = read_video(args.video, max_frames=args.start + args.frames).frames[args.start:]
    frames = np.stack([_resize(f, args.height) for f in frames])
    t, h, w = frames.shape[:3]
    keys = ("lpips", "lpips_vgg", "dists", "vmaf_neg", "psnr_y")
    lines = [f"{args.video}: frames {args.start}-{args.start + t - 1} at {w}x{h}", "",
             "| sketch | model | LPIPS | LPIPS-VGG | DISTS | VMAF NEG | PSNR-Y (dB) |", "|---|---|---|---|---|---|---|"]
    y, x = crop_of(frames[t // 2])
    rows = []
    for pair in args.sketches:
        scale, qp = float(pair.split(":")[0]), int(pair.split(":")[1])
        sketch = upsampled(code_video(frames, scale, qp), w, h, scale)
        outputs = [("sketch", sketch)] + [(label, restore_sketch(model, sketch, scale, qp)) for label, model in models]
        for label, decoded in outputs:
            values = measure(frames, decoded)
            cells = [f"{values[k]:.4f}" if k in ("lpips", "lpips_vgg", "dists") else f"{values[k]:.2f}" for k in keys]
            lines.append(f"| 1/{scale:g} QP {qp} | {label} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
        crops = [frames[t // 2]] + [d[t // 2] for _, d in outputs]
        rows.append(np.concatenate([c[y:y + CROP, x:x + CROP] for c in crops], axis=1))
    (args.output / "ablation.md").write_text("\n".join(lines) + "\n")
    sheet = cv2.resize(np.concatenate(rows, axis=0), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(args.output / "crops.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print("columns: original, sketch, " + ", ".join(label for label, _ in models) + f" → {args.output}/crops.png")


if __name__ == "__main__":
    main()
