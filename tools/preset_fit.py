"""Measure, on the training sources only, the constant the fast presets predict a clip's sketch scale with
(`genvc.presets.TARGET_QP`).

For each training clip and target rate: the slow preset's choice (the whole measured scale search, generator in
the judge), and the probe the fast presets run (the QP that fits the budget at 1/2 size with vvenc's fast preset).
A clip's best scale s and that probe QP q2 give the QP the byte model expects at s: q2 + 5.4·log2(2/s)
(`genvc.inter.scale_search.BYTES_PIXEL_EXPONENT`, `genvc.ratesearch.QP_PER_HALVING`); TARGET_QP is its median.
The held-out source (sports2d) and the bench's sample clips are never used here.

    python tools/preset_fit.py data/videos --frames 30 --width 480 -o preset_fit.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from genvc.io import read_video
from genvc.methods.base import ClipContext
from genvc.training.media import HELD_OUT

BPPS = (0.002, 0.005, 0.01, 0.02)


def clips(folder: Path, frames: int, width: int):
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".mp4", ".mov", ".avi") or path.as_posix().endswith(HELD_OUT):
            continue
        video = read_video(path)
        if video.num_frames < frames:
            continue
        start = (video.num_frames - frames) // 2
        clip = video.frames[start:start + frames]
        h, w = clip.shape[1:3]
        if w > width:  # keep the fit quick: the rule is in bits per pixel and QP, not in pixels
            size = (width, int(round(h * width / w / 2)) * 2)
            clip = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in clip])
        yield path.relative_to(folder).as_posix(), clip, float(video.fps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("-o", "--output", type=Path, default=Path("preset_fit.json"))
    args = parser.parse_args()
    from genvc.inter.scale_search import probe_qp
    from genvc.methods.sketch import SketchMethod, describe_config
    from genvc.bitstream.sections import Section

    method = SketchMethod()
    rows = json.loads(args.output.read_text()) if args.output.exists() else []
    done = {(r["clip"], r["bpp"]) for r in rows}
    for name, frames, fps in clips(args.folder, args.frames, args.width):
        t, h, w = frames.shape[:3]
        for bpp in BPPS:
            if (name, bpp) in done:
                continue
            budget = int(bpp * t * h * w / 8)
            started = time.perf_counter()
            ctx = ClipContext(None, None, t, fps, {"preset": "slow"}, h, w)
            config = describe_config(method.encode(frames, ctx, budget)[Section.CONFIG])
            q2 = probe_qp(frames, budget, fps)
            implied = q2 + 5.4 * np.log2(2 / config["scale"])
            rows.append({"clip": name, "size": [w, h], "bpp": bpp, "scale": config["scale"], "qp": config["qp"],
                         "probe_qp_half": q2, "implied_target_qp": round(float(implied), 2),
                         "seconds": round(time.perf_counter() - started, 1)})
            print(json.dumps(rows[-1]), flush=True)
            args.output.write_text(json.dumps(rows, indent=1))
    implied = [r["implied_target_qp"] for r in rows]
    print(f"{len(rows)} clip x rate points; implied target QP: median {statistics.median(implied):.1f}, "
          f"quartiles {np.percentile(implied, 25):.1f}-{np.percentile(implied, 75):.1f}", file=sys.stderr)
    fitted, misses = fit_target_qp(rows)
    print(f"fitted TARGET_QP {fitted:g}: the predicted scale is {misses:.2f} ladder steps from slow's choice on "
          "average", file=sys.stderr)
    return 0


def fit_target_qp(rows: list[dict]) -> tuple[float, float]:
    """The TARGET_QP (in half-QP steps) whose predicted scales (`predict_scale`'s rule) are fewest ladder steps
    from the slow preset's choices, on average; ties go to the one nearest the implied QPs' median."""
    from genvc.ladders import SKETCH_SCALES

    def steps(target: float, row: dict) -> int:
        log_scale = np.log2(2) + (row["probe_qp_half"] - target) / 5.4
        predicted = min(SKETCH_SCALES, key=lambda s: abs(np.log2(s) - log_scale))
        chosen = max(s for s in SKETCH_SCALES if s <= row["scale"])  # a filled scale counts as its ladder step
        return abs(SKETCH_SCALES.index(predicted) - SKETCH_SCALES.index(chosen))

    median = statistics.median(r["implied_target_qp"] for r in rows)
    candidates = np.arange(30, 56, 0.5)
    scores = {float(t): float(np.mean([steps(t, r) for r in rows])) for t in candidates}
    best = min(scores, key=lambda t: (scores[t], abs(t - median)))
    return best, scores[best]


if __name__ == "__main__":
    sys.exit(main())
