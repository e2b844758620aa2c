"""RD plots: one PNG per video and metric, quality against actual bpp (log axis)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genvc.bench.store import Point
from genvc.metrics import LABELS, LOWER_IS_BETTER
from genvc.utils.atomic import atomic_path

PLOT_METRICS = ("psnr_y", "psnr_yuv", "psnr_rgb", "msssim_y", "vmaf", "vmaf_neg", "lpips", "lpips_vgg", "dists",
                "fvd")
MARKERS = "osD^v<>P*X"
# One colour and marker per codec in every plot, so curves can be compared across plots at a glance.
CODEC_ORDER = ("genvc", "x264", "x265", "svtav1", "aom", "vvenc")


def _style_index(codec: str, others: list[str]) -> int:
    return CODEC_ORDER.index(codec) if codec in CODEC_ORDER else len(CODEC_ORDER) + others.index(codec)


def plot_rd(points: list[Point], video: str, metric: str, path: Path) -> bool:
    """Write one RD plot; False (nothing written) when no codec has a value for this metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    mine = [p for p in points if p.video == video and p.metrics.get(metric) is not None
            and np.isfinite(p.metrics[metric])]
    if not mine:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=110)
    codecs = sorted({p.codec for p in mine}, key=lambda c: (c not in CODEC_ORDER, CODEC_ORDER.index(c)
                                                             if c in CODEC_ORDER else 0, c))
    others = [c for c in codecs if c not in CODEC_ORDER]
    for codec in codecs:
        i = _style_index(codec, others)
        curve = sorted((p for p in mine if p.codec == codec), key=lambda p: p.bpp)
        x = [p.bpp for p in curve]
        y = [p.metrics[metric] for p in curve]
        line, = ax.plot(x, y, marker=MARKERS[i % len(MARKERS)], label=codec, markersize=6, color=f"C{i % 10}",
                        linewidth=2.4 if codec == "genvc" else 1.4)
        floors = [p for p in curve if not p.reached]
        if floors:  # hollow markers: the codec could not get down to the target rate
            ax.plot([p.bpp for p in floors], [p.metrics[metric] for p in floors], linestyle="none",
                    marker=MARKERS[i % len(MARKERS)], markersize=11, markerfacecolor="none", color=line.get_color())
    targets = sorted({p.target_bpp for p in mine})
    for t in targets:
        ax.axvline(t, color="0.85", linewidth=0.8, zorder=0)
    ax.set_xscale("log")
    ax.set_xticks(targets)
    ax.set_xticklabels([f"{t:g}" for t in targets])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("bits per pixel (actual)")
    ax.set_ylabel(LABELS.get(metric, metric))
    if metric in LOWER_IS_BETTER:
        ax.invert_yaxis()
    p0 = mine[0]
    ax.set_title(f"{video} ({p0.width}×{p0.height}, {p0.frames} frames): {LABELS.get(metric, metric)}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best", title="hollow ring = floor" if any(not p.reached for p in mine) else None,
              title_fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return True


def plot_all(points: list[Point], out_dir: Path, metrics=PLOT_METRICS) -> dict[tuple[str, str], Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for video in sorted({p.video for p in points}):
        for metric in metrics:
            path = out_dir / f"{video}_{metric}.png"
            if plot_rd(points, video, metric, path):
                written[(video, metric)] = path
    return written
