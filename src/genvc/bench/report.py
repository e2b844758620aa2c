"""The self-contained HTML report: tables of every point, BD-rate against the anchor, RD plots and side-by-side
crops (all images inlined as base64, so the one file can be mailed or attached)."""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path

from genvc.bench.bdrate import BD_METRICS, bd_rate_table
from genvc.bench.plots import plot_all
from genvc.bench.store import Point, ResultStore
from genvc.metrics import LABELS, PERCEPTUAL, format_metric
from genvc.utils.atomic import write_bytes_atomic

TABLE_METRICS = ("psnr_y", "psnr_yuv", "psnr_rgb", "ssim_y", "msssim_y", "vmaf", "vmaf_neg", "lpips", "lpips_vgg",
                 "dists", "fvd")
STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;max-width:1500px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f0f0f0} td.l{text-align:left}
tr.floor td{color:#a33}
.plots img{width:460px;margin:4px}
.crops{display:flex;flex-wrap:wrap;gap:8px;margin-bottom:14px}
.crops figure{margin:0} .crops img{image-rendering:pixelated;max-width:330px}
figcaption{font-size:12px;text-align:center}
.note{font-size:13px;color:#555}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _points_table(points: list[Point]) -> str:
    head = ["codec", "preset", "target bpp", "bpp", "bytes", "q"] + [LABELS.get(m, m) for m in TABLE_METRICS] + [
        "enc s", "dec s", "enc MB", "dec MB"]
    rows = ["<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for p in points:
        cells = [f'<td class="l">{html.escape(p.codec)}</td>', f'<td class="l">{html.escape(p.preset)}</td>',
                 f"<td>{p.target_bpp:g}</td>", f"<td>{p.bpp:.5f}</td>", f"<td>{p.bytes}</td>",
                 f"<td>{'' if p.q is None else p.q}</td>"]
        cells += [f"<td>{format_metric(p.metrics.get(m), 4 if 'ssim' in m or m in PERCEPTUAL else 2)}</td>"
                  for m in TABLE_METRICS]
        cells += [f"<td>{format_metric(v, 1)}</td>" for v in (p.encode_s, p.decode_s, p.encode_peak_mb,
                                                              p.decode_peak_mb)]
        css = ' class="floor"' if not p.reached else ""
        rows.append(f"<tr{css}>" + "".join(cells) + "</tr>")
    return "<table>" + "\n".join(rows) + "</table>"


def _bd_table(table: dict, video: str, anchor: str) -> str:
    if video not in table:
        return f'<p class="note">No BD-rate: no {html.escape(anchor)} points for this video.</p>'
    head = "".join(f"<th>{html.escape(LABELS.get(m, m))}</th>" for m in BD_METRICS)
    rows = [f"<tr><th>codec vs {html.escape(anchor)}</th>{head}</tr>"]
    for codec, values in table[video].items():
        cells = "".join(f"<td>{'n/a' if v is None else f'{v:+.1f}%'}</td>" for v in values.values())
        rows.append(f'<tr><td class="l">{html.escape(codec)}</td>{cells}</tr>')
    return "<table>" + "".join(rows) + "</table>"


def _crops(store: ResultStore, points: list[Point], video: str) -> str:
    parts = []
    original = store.crops_dir / f"{video}__original.png"
    for target in sorted({p.target_bpp for p in points}):
        figures = []
        if original.is_file():
            figures.append(f"<figure>{_img(original, 'original')}<figcaption>original</figcaption></figure>")
        for p in sorted((p for p in points if p.target_bpp == target), key=lambda p: p.codec):
            crop = store.crops_dir / p.extra.get("crop", "")
            if not p.extra.get("crop") or not crop.is_file():
                continue
            caption = f"{p.codec}: {p.bpp:.4f} bpp, {format_metric(p.metrics.get('psnr_y'), 2)} dB" + (
                " (floor)" if not p.reached else "")
            figures.append(f"<figure>{_img(crop, p.codec)}<figcaption>{html.escape(caption)}</figcaption></figure>")
        parts.append(f"<h4>target {target:g} bpp (middle frame, centre crop)</h4><div class='crops'>"
                     + "".join(figures) + "</div>")
    return "".join(parts)


def write_report(store: ResultStore, points: list[Point], anchor: str, notes: list[str] | None = None) -> Path:
    plots = plot_all(points, store.root / "plots")
    table = bd_rate_table(points, anchor)
    body = [f"<h1>genvc bench</h1><p class='note'>{time.strftime('%Y-%m-%d %H:%M')} · "
            f"{len(points)} points · anchor for BD-rate: {html.escape(anchor)}</p>"]
    body += [f"<p class='note'>{html.escape(n)}</p>" for n in notes or []]
    body.append("<p class='note'>Rates count picture data only (SEI, AUD, filler, AV1 temporal delimiters left "
                "out; genvc counts its whole file). Rows in red: the codec's floor, it cannot reach the target. "
                "Y/U/V metrics: BT.709 full-range conversion of the RGB frames (PSNR-Y reads ~1.3 dB below ffmpeg's psnr "
                "filter on limited-range planes); n/a: metric unavailable.</p>")
    for video in sorted({p.video for p in points}):
        mine = [p for p in points if p.video == video]
        p0 = mine[0]
        body.append(f"<h2>{html.escape(video)} — {p0.width}×{p0.height}, {p0.frames} frames</h2>")
        body.append(_points_table(mine))
        floors = sorted({(p.codec, p.bpp, p.q) for p in mine if not p.reached})
        if floors:
            text = ", ".join(f"{c} {b:.5f} bpp" + (f" (q {q})" if q is not None else "") for c, b, q in floors)
            body.append(f"<p class='note'>Floors (lowest rate reached, target not reachable): {html.escape(text)}</p>")
        body.append(f"<h3>BD-rate vs {html.escape(anchor)}</h3>" + _bd_table(table, video, anchor))
        images = [_img(path, f"{v} {m}") for (v, m), path in plots.items() if v == video]
        body.append("<h3>RD curves</h3><div class='plots'>" + "".join(images) + "</div>")
        body.append("<h3>Frames at the same rate</h3>" + _crops(store, mine, video))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>genvc bench</title><style>{STYLE}</style>"
            f"</head><body>{''.join(body)}</body></html>")
    path = store.root / "report.html"
    write_bytes_atomic(path, page.encode())
    return path
