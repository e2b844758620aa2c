"""`summary.md`: the bench's numbers as Markdown tables to paste into notes and READMEs — quality per codec and
target rate, BD-rates against the anchor and against vvenc, and genvc's rate error, speed and memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genvc.bench.bdrate import MIN_RELIABLE_POINTS, bd_rate, bd_rate_table, sparse_curves, too_few_points
from genvc.bench.store import Point
from genvc.metrics import LABELS, LOWER_IS_BETTER, PERCEPTUAL
from genvc.utils.atomic import write_bytes_atomic


#: BD-rate columns: the papers' perceptual metrics first, then VMAF, VMAF NEG and PSNR-Y beside them
BD_COLUMNS = ("lpips", "dists", "vmaf", "vmaf_neg", "psnr_y")


def _value(metric: str, value: float) -> str:
    return f"{value:.1f}" if metric.startswith("vmaf") else f"{value:.4f}" if metric in PERCEPTUAL else f"{value:.2f}"


def _cell(point: Point | None, metric: str) -> str:
    if point is None:
        return ""
    value = point.metrics.get(metric)
    text = "n/a" if value is None else _value(metric, value)
    return text if point.reached else f"F ({point.bpp:.4f}) {text}"  # F: the codec's floor, target not reachable


def quality_table(points: list[Point], metric: str) -> list[str]:
    targets = sorted({p.target_bpp for p in points})
    lines = ["| video | codec | " + " | ".join(f"{t:g}" for t in targets) + " |",
             "|---|---|" + "---|" * len(targets)]
    for video in sorted({p.video for p in points}):
        for codec in sorted({p.codec for p in points if p.video == video}, key=lambda c: (c != "genvc", c)):
            at = {p.target_bpp: p for p in points if p.video == video and p.codec == codec}
            preset = next(iter(at.values())).preset
            lines.append(f"| {video} | {codec} {preset} | " + " | ".join(_cell(at.get(t), metric) for t in targets)
                         + " |")
    return lines


def bd_table(points: list[Point], anchors: list[str], metrics=BD_COLUMNS) -> list[str]:
    lines = ["| video | codec | " + " | ".join(f"vs {a} ({m})" for a in anchors for m in metrics) + " |",
             "|---|---|" + "---|" * (len(anchors) * len(metrics))]
    tables = {a: bd_rate_table(points, a, metrics) for a in anchors}
    for video in sorted({p.video for p in points}):
        mine = [p for p in points if p.video == video]
        for codec in sorted({p.codec for p in mine}, key=lambda c: (c != "genvc", c)):
            cells = []
            for a in anchors:
                for m in metrics:
                    value = tables[a].get(video, {}).get(codec, {}).get(m) if codec != a else None
                    few = value is not None and too_few_points([p for p in mine if p.codec == a],
                                                               [p for p in mine if p.codec == codec], m)
                    cells.append("—" if codec == a else "n/a" if value is None else f"{value:+.1f} %"
                                 + (" ⚠" if few else ""))
            lines.append(f"| {video} | {codec} | " + " | ".join(cells) + " |")
    return lines


def _vvenc_encode_s(points: list[Point], video: str, target: float) -> float | None:
    """The time of the one vvenc encode (at the rate search's final QP) for the same video and target."""
    return next((p.encode_s for p in points if p.codec == "vvenc" and p.video == video and p.target_bpp == target
                 and p.encode_s), None)


def genvc_table(points: list[Point]) -> list[str]:
    lines = ["| video | target bpp | bpp | rate error | encode Mpixel/s | encode × vvenc | decode Mpixel/s | "
             "decode peak MB |", "|---|---|---|---|---|---|---|---|"]
    for p in sorted((p for p in points if p.codec == "genvc"), key=lambda p: (p.video, p.target_bpp)):
        pixels = p.frames * p.width * p.height / 1e6
        error = f"{100 * (p.bpp - p.target_bpp) / p.target_bpp:+.1f} %" if p.reached else "floor"
        vvenc_s = _vvenc_encode_s(points, p.video, p.target_bpp)
        ratio = "n/a" if vvenc_s is None else f"{p.encode_s / vvenc_s:.1f}"
        lines.append(f"| {p.video} | {p.target_bpp:g} | {p.bpp:.5f} | {error} | {pixels / p.encode_s:.2f} | "
                     f"{ratio} | {pixels / p.decode_s:.2f} | {p.decode_peak_mb or 0:.0f} |")
    ratios = [p.encode_s / s for p in points if p.codec == "genvc"
              and (s := _vvenc_encode_s(points, p.video, p.target_bpp))]
    if ratios:
        lines += ["", f"Encode time as a multiple of one vvenc encode of the same clip at the same target (same run): "
                  f"median {np.median(ratios):.1f}×, range {min(ratios):.1f}–{max(ratios):.1f}×."]
    return lines


#: the bench's columns for genvc's encoder presets (`genvc.presets`), fastest first
PRESET_CODECS = (("genvc-fast", "fast"), ("genvc", "medium"), ("genvc-slow", "slow"))


def preset_lines(points: list[Point], metrics=("lpips", "dists")) -> list[str]:
    """Each encoder preset's encode time (a multiple of one vvenc encode of the same clip and target, same run)
    and its BD-rate against `slow`, per video and averaged: what searching less costs."""
    present = [(codec, name) for codec, name in PRESET_CODECS if any(p.codec == codec for p in points)]
    if len(present) < 2 or present[-1][0] != "genvc-slow":
        return []
    videos = sorted({p.video for p in points if p.codec == "genvc-slow"})
    columns = [f"BD-rate {LABELS[m].split(' (')[0]} vs slow: {v}" for m in metrics for v in (*videos, "mean")]
    lines = ["| preset | encode × vvenc, median (range) | " + " | ".join(columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for codec, name in present:
        mine = [p for p in points if p.codec == codec]
        ratios = [p.encode_s / s for p in mine if (s := _vvenc_encode_s(points, p.video, p.target_bpp))]
        time = f"{np.median(ratios):.1f} ({min(ratios):.1f}–{max(ratios):.1f})" if ratios else "n/a"
        cells = []
        for metric in metrics:
            values = [None if codec == "genvc-slow" else
                      bd_rate([p for p in points if p.codec == "genvc-slow" and p.video == v],
                              [p for p in mine if p.video == v], metric) for v in videos]
            cells += ["0" if codec == "genvc-slow" else "n/a" if x is None else f"{x:+.1f} %" for x in values]
            known = [x for x in values if x is not None]
            cells.append("0" if codec == "genvc-slow" else f"{np.mean(known):+.1f} %" if known else "n/a")
        lines.append(f"| {name} | {time} | " + " | ".join(cells) + " |")
    return lines


def matched_bytes_gap(points: list[Point], codec: str, anchor: str = "vvenc",
                      metric: str = "vmaf") -> list[tuple[str, float, float]]:
    """(video, target bpp, codec's metric − anchor's at the codec's rate) for each reached point of `codec`: the
    anchor's value interpolated in log(bpp) between its points, or its point at the same target where the
    codec's rate lies outside the anchor's curve."""
    gaps = []
    for p in points:
        if p.codec != codec or not p.reached or p.metrics.get(metric) is None:
            continue
        curve = sorted((q.bpp, q.metrics[metric]) for q in points if q.codec == anchor and q.video == p.video
                       and q.metrics.get(metric) is not None)
        if not curve:
            continue
        rates, values = np.log([c[0] for c in curve]), [c[1] for c in curve]
        if rates[0] <= np.log(p.bpp) <= rates[-1]:
            reference = float(np.interp(np.log(p.bpp), rates, values))
        else:
            same = [q for q in points if q.codec == anchor and q.video == p.video and q.target_bpp == p.target_bpp]
            if not same or same[0].metrics.get(metric) is None:
                continue
            reference = same[0].metrics[metric]
        gaps.append((p.video, p.target_bpp, p.metrics[metric] - reference))
    return sorted(gaps)


def gap_lines(points: list[Point], codecs: list[str], metrics=BD_COLUMNS) -> list[str]:
    """The worst and mean gap to vvenc at matched bytes of each codec, per metric (for LPIPS and DISTS the worst
    is the largest: lower is better); VMAF NEG and PSNR-Y say how much of a VMAF lead is VMAF's credit for
    sharpening."""
    lines = ["| codec | metric | worst vs vvenc | at | mean |", "|---|---|---|---|---|"]
    for codec in codecs:
        for metric in metrics:
            gaps = matched_bytes_gap(points, codec, metric=metric)
            if gaps:
                sign = -1 if metric in LOWER_IS_BETTER else 1
                video, target, worst = min(gaps, key=lambda g: sign * g[2])
                mean = np.mean([g[2] for g in gaps])
                unit, digits = (" dB", 2) if metric.startswith("psnr") else ("", 4) if metric in PERCEPTUAL else ("", 1)
                lines.append(f"| {codec} | {LABELS.get(metric, metric)} | {worst:+.{digits}f}{unit} | "
                             f"{video} {target:g} bpp | {mean:+.{digits}f}{unit} |")
    return lines


def preset_line(points: list[Point]) -> str:
    presets = {}
    for p in points:
        presets.setdefault(p.codec, set()).add(p.preset)
    return "Presets: " + "; ".join(f"{c} {', '.join(sorted(v))}" for c, v in sorted(presets.items())) + (
        " (genvc codes its sketch with vvenc medium)." if "genvc" in presets else ".")


def generator_lines(points: list[Point], metric: str = "vmaf") -> list[str]:
    """genvc against genvc-off (the same encoder, generator off) at each target: what the learned part adds."""
    lines = ["| video | target bpp | genvc bpp | genvc-off bpp | genvc | genvc-off | difference |",
             "|---|---|---|---|---|---|---|"]
    differences = []
    for p in sorted((p for p in points if p.codec == "genvc"), key=lambda p: (p.video, p.target_bpp)):
        off = next((q for q in points if q.codec == "genvc-off" and q.video == p.video
                    and q.target_bpp == p.target_bpp), None)
        if off is None or p.metrics.get(metric) is None or off.metrics.get(metric) is None:
            continue
        differences.append(p.metrics[metric] - off.metrics[metric])
        lines.append(f"| {p.video} | {p.target_bpp:g} | {p.bpp:.5f} | {off.bpp:.5f} | {_value(metric, p.metrics[metric])} "
                     f"| {_value(metric, off.metrics[metric])} | {differences[-1]:+.4g} |")
    if not differences:
        return []
    best, worst = (min, max) if metric in LOWER_IS_BETTER else (max, min)
    return lines + ["", f"genvc minus genvc-off, {LABELS.get(metric, metric)}: mean {np.mean(differences):+.4g}, "
                        f"worst {worst(differences):+.4g}, best {best(differences):+.4g} over {len(differences)} "
                        "points."]


def ratio_lines(points: list[Point], codec: str = "genvc", anchor: str = "vvenc", metric: str = "lpips") -> list[str]:
    """`codec`'s metric as a multiple of `anchor`'s at each target (the papers' comparison: FLOW-IB's LPIPS is
    ≈ 0.52× H.266's at 0.01 bpp), per video, with the mean over videos per target."""
    targets = sorted({p.target_bpp for p in points if p.codec == codec})
    lines = ["| video | " + " | ".join(f"{t:g}" for t in targets) + " |", "|---|" + "---|" * len(targets)]
    per_target: dict[float, list[float]] = {t: [] for t in targets}
    for video in sorted({p.video for p in points if p.codec == codec}):
        cells = []
        for t in targets:
            mine, theirs = (next((p.metrics.get(metric) for p in points if p.codec == c and p.video == video
                                  and p.target_bpp == t), None) for c in (codec, anchor))
            if mine is None or not theirs:
                cells.append("")
                continue
            per_target[t].append(mine / theirs)
            cells.append(f"{mine / theirs:.2f}×")
        lines.append(f"| {video} | " + " | ".join(cells) + " |")
    if not any(per_target.values()):
        return []
    lines.append("| mean | " + " | ".join(f"{np.mean(v):.2f}×" if v else "" for v in per_target.values()) + " |")
    return lines


def write_summary(root: Path, points: list[Point], anchor: str) -> Path:
    codecs = {p.codec for p in points}
    anchors = [anchor] + [a for a in ("genvc-off", "vvenc") if a != anchor and a in codecs]
    parts = ["# genvc bench summary", "", preset_line(points), "",
             "F (bpp): the codec cannot reach the target; its floor is shown. BD-rate: negative = fewer bits for "
             "the same quality (pchip, over the common quality range; n/a where the curves do not overlap; ⚠: "
             f"a curve has fewer than {MIN_RELIABLE_POINTS} distinct points, the value is unreliable).", "",
             "## LPIPS (AlexNet; the papers' metric, lower is better)", "", *quality_table(points, "lpips"), "",
             "## DISTS (lower is better)", "", *quality_table(points, "dists"), "",
             "## VMAF", "", *quality_table(points, "vmaf"), "",
             "## VMAF NEG", "", "libvmaf's model without enhancement gain (sharpening alone scores no higher):", "",
             *quality_table(points, "vmaf_neg"), "",
             "## PSNR-Y (dB)", "", *quality_table(points, "psnr_y"), "",
             "## BD-rate", "", *bd_table(points, anchors), ""]
    if sparse := sparse_curves(points):
        parts += [f"Caveat: fewer than {MIN_RELIABLE_POINTS} rate points for {', '.join(sparse)}: BD-rates involving "
                  "them are rough estimates.", ""]
    for metric in ("lpips", "dists"):
        if "genvc" in codecs and "vvenc" in codecs and (ratios := ratio_lines(points, metric=metric)):
            parts += [f"## genvc's {LABELS[metric].split(' (')[0]} as a multiple of vvenc's at the same target", "",
                      *ratios, ""]
    if generator := generator_lines(points, "lpips"):
        parts += ["## What the generator adds", "",
                  "genvc against the same encoder with its generator off (`genvc-off`: the stream is decoded and "
                  "upsampled with Lanczos, nothing learned runs), LPIPS at each target:", "", *generator, ""]
        for metric, what in (("dists", "DISTS"), ("vmaf", "VMAF"), ("vmaf_neg", "VMAF NEG (no credit for enhancement)"),
                             ("psnr_y", "PSNR-Y")):
            if more := generator_lines(points, metric):
                parts += [f"The same in {what}:", "", *more, ""]
    compared = [c for c in ("genvc", "genvc-off", "vvenc-scaled") if any(p.codec == c for p in points)]
    if compared and any(p.codec == "vvenc" for p in points):
        parts += ["## Against vvenc at matched bytes", "",
                  "Each metric minus vvenc's at the same rate (vvenc's curve interpolated in log bpp; at the same "
                  "target where the rate lies outside it), over every reached point:", "",
                  *gap_lines(points, compared), ""]
    if any(p.codec == "genvc" for p in points):
        parts += ["## genvc rate control, speed and memory", "",
                  "Rate from the bytes of the written .gvc; speed is wall time of the whole encode/decode call on "
                  "this machine, memory the peak RSS of the process.", "", *genvc_table(points), ""]
    if presets := preset_lines(points):
        parts += ["## Encoder presets", "", "`--preset`: encode time against one vvenc encode, and the BD-rate "
                  "against `slow` (positive: more bytes for the same quality than slow's search):", "", *presets, ""]
    path = root / "summary.md"
    write_bytes_atomic(path, "\n".join(parts).encode())
    return path
