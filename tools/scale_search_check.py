"""Does the scale search's cheap proxy rank candidate scales like the full measure?

For each clip and rate, every scale of the ladder is coded at the budget with the fast preset (the QP search's
stream) and with the final one, and judged three ways: `proxy` (fast stream, `sample_frames` only: what the
search first judged), `sampled` (final stream, `sample_frames` only: what `encode_sketch` judges now) and `full`
(final stream, VMAF over all frames, the measure that matters). Prints per-scale scores, whether both pick the same scale, the VMAF the proxy's pick loses against the
full measure's best (regret), and whether stopping after PATIENCE falls would have kept the best.

    python tools/scale_search_check.py bikes carphone synth-pan synth-static synth-zoom synth-cut --frames 45
"""

from __future__ import annotations

import argparse
import json

from genvc.bench.runner import load_video, resolve_video
from genvc.inter.scale_search import PATIENCE, _final, _search_qp
from genvc.inter.vvc import SEARCH_PRESET, decode_sketch, downsample, encode_small
from genvc.judge import plain_judge, sample_frames
from genvc.ladders import SKETCH_SCALES
from genvc.metrics.vmaf import vmaf


def check(name: str, frames: int, bpp: float) -> dict:
    video = load_video(resolve_video(name)[1], frames)
    f, (t, h, w) = video.frames, video.frames.shape[:3]
    budget, fps = int(bpp * t * h * w / 8), float(video.fps)
    judge, sample = plain_judge(f), sample_frames(t)
    rows = []
    for scale in SKETCH_SCALES:
        small = downsample(f, scale)
        qp, _ = _search_qp(small, budget, fps, 40)
        if qp is None:
            continue
        fast = encode_small(small, qp, fps, SEARCH_PRESET)  # remembered from the search
        proxy = judge(decode_sketch(fast, w, h, scale, t)[sample], scale, qp)
        final = _final(small, budget, fps, qp)
        decoded = None if final is None else decode_sketch(final.data, w, h, scale, t)
        full = None if final is None else vmaf(f, decoded)
        sampled = None if final is None else judge(decoded[sample], scale, final.qp)
        rows.append({"scale": scale, "qp": qp, "proxy": round(proxy, 2), "sampled": sampled and round(sampled, 2),
                     "full": full and round(full, 2)})
    rows = [r for r in rows if r["full"] is not None]
    if not rows:
        return {"video": name, "bpp": bpp, "rows": [], "note": "no scale reaches the rate"}
    pick = max(rows, key=lambda r: r["proxy"])
    sampled_pick = max(rows, key=lambda r: r["sampled"])
    best = max(rows, key=lambda r: r["full"])
    # the early stop: scales in ladder order until PATIENCE in a row score below the best proxy so far
    seen, worse = [], 0
    for r in rows:
        seen.append(r)
        worse = worse + 1 if r["proxy"] < max(s["proxy"] for s in seen) else 0
        if worse >= PATIENCE:
            break
    stopped_pick = max(seen, key=lambda r: r["proxy"])
    full_size = next((r for r in rows if r["scale"] == 1), None)
    return {"video": name, "bpp": bpp, "rows": rows, "proxy_pick": pick["scale"], "full_pick": best["scale"],
            "regret": round(best["full"] - pick["full"], 2), "sampled_pick": sampled_pick["scale"],
            "sampled_regret": round(best["full"] - sampled_pick["full"], 2),
            "regret_with_early_stop": round(best["full"] - stopped_pick["full"], 2),
            "vs_full_size": None if full_size is None else round(stopped_pick["full"] - full_size["full"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="+")
    parser.add_argument("--frames", type=int, default=45)
    parser.add_argument("--bpp", nargs="+", type=float, default=[0.002, 0.01])
    args = parser.parse_args()
    for name in args.videos:
        for bpp in args.bpp:
            print(json.dumps(check(name, args.frames, bpp)), flush=True)


if __name__ == "__main__":
    main()
