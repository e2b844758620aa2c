"""`summary.md`: the bench's numbers as Markdown tables to paste into notes and READMEs — quality per codec and
target rate, BD-rates against the anchor and against vvenc, and genvc's rate error, speed and memory."""

from __future__ import annotations

from pathlib import Path

from genvc.bench.bdrate import MIN_RELIABLE_POINTS, bd_rate_table, sparse_curves
from genvc.bench.store import Point
from genvc.utils.atomic import write_bytes_atomic


def _cell(point: Point | None, metric: str) -> str:
    if point is None:
        return ""
    value = point.metrics.get(metric)
    text = "n/a" if value is None else f"{value:.1f}" if metric == "vmaf" else f"{value:.2f}"
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


def bd_table(points: list[Point], anchors: list[str], metrics=("vmaf", "psnr_y")) -> list[str]:
    lines = ["| video | codec | " + " | ".join(f"vs {a} ({m})" for a in anchors for m in metrics) + " |",
             "|---|---|" + "---|" * (len(anchors) * len(metrics))]
    tables = {a: bd_rate_table(points, a, metrics) for a in anchors}
    for video in sorted({p.video for p in points}):
        for codec in sorted({p.codec for p in points if p.video == video}, key=lambda c: (c != "genvc", c)):
            cells = []
            for a in anchors:
                for m in metrics:
                    value = tables[a].get(video, {}).get(codec, {}).get(m) if codec != a else None
                    cells.append("—" if codec == a else "n/a" if value is None else f"{value:+.1f} %")
            lines.append(f"| {video} | {codec} | " + " | ".join(cells) + " |")
    return lines


def genvc_table(points: list[Point]) -> list[str]:
    lines = ["| video | target bpp | bpp | rate error | encode Mpixel/s | decode Mpixel/s | decode peak MB |",
             "|---|---|---|---|---|---|---|"]
    for p in sorted((p for p in points if p.codec == "genvc"), key=lambda p: (p.video, p.target_bpp)):
        pixels = p.frames * p.width * p.height / 1e6
        error = f"{100 * (p.bpp - p.target_bpp) / p.target_bpp:+.1f} %" if p.reached else "floor"
        lines.append(f"| {p.video} | {p.target_bpp:g} | {p.bpp:.5f} | {error} | {pixels / p.encode_s:.2f} | "
                     f"{pixels / p.decode_s:.2f} | {p.decode_peak_mb or 0:.0f} |")
    return lines


def write_summary(root: Path, points: list[Point], anchor: str) -> Path:
    anchors = [anchor] + (["vvenc"] if anchor != "vvenc" and any(p.codec == "vvenc" for p in points) else [])
    parts = ["# genvc bench summary", "",
             "F (bpp): the codec cannot reach the target; its floor is shown. BD-rate: negative = fewer bits for "
             "the same quality (pchip, over the common quality range; n/a where the curves do not overlap).", "",
             "## VMAF", "", *quality_table(points, "vmaf"), "",
             "## PSNR-Y (dB)", "", *quality_table(points, "psnr_y"), "",
             "## BD-rate", "", *bd_table(points, anchors), ""]
    if sparse := sparse_curves(points):
        parts += [f"Caveat: fewer than {MIN_RELIABLE_POINTS} rate points for {', '.join(sparse)}: BD-rates involving "
                  "them are rough estimates.", ""]
    if any(p.codec == "genvc" for p in points):
        parts += ["## genvc rate control, speed and memory", "",
                  "Rate from the bytes of the written .gvc; speed is wall time of the whole encode/decode call on "
                  "this machine, memory the peak RSS of the process.", "", *genvc_table(points), ""]
    path = root / "summary.md"
    write_bytes_atomic(path, "\n".join(parts).encode())
    return path
