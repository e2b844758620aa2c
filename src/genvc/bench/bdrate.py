"""BD-rate (Bjøntegaard delta rate, %) of each codec against an anchor, per video and metric, with the
`bjontegaard` package (pchip interpolation, as the VCEG-recommended piecewise-cubic). Negative = fewer bits for the
same quality. Points a codec repeats (a floor reached at several targets) count once."""

from __future__ import annotations

import warnings

import numpy as np

from genvc.bench.store import Point
from genvc.metrics import LOWER_IS_BETTER

BD_METRICS = ("psnr_y", "psnr_yuv", "msssim_y", "vmaf", "vmaf_neg", "lpips", "lpips_vgg", "dists")
#: BD-rate fits a cubic through each curve: with fewer distinct rate points than this it is a rough estimate
MIN_RELIABLE_POINTS = 4


def sparse_curves(points: list[Point]) -> list[str]:
    """"video/codec (n points)" for every curve with fewer than MIN_RELIABLE_POINTS distinct rates."""
    counts: dict[tuple[str, str], set] = {}
    for p in points:
        counts.setdefault((p.video, p.codec), set()).add(p.bytes)
    return [f"{video}/{codec} ({len(rates)} point{'s' * (len(rates) != 1)})"
            for (video, codec), rates in sorted(counts.items()) if len(rates) < MIN_RELIABLE_POINTS]


def rd_curve(points: list[Point], metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(rates, qualities) of one codec on one video, distinct rates only, finite metric values only."""
    by_bytes = {}
    for p in points:
        value = p.metrics.get(metric)
        if value is not None and np.isfinite(value):
            by_bytes[p.bytes] = (p.bpp, -value if metric in LOWER_IS_BETTER else value)
    if len(by_bytes) < 2:
        return None
    rates, quality = zip(*sorted(by_bytes.values()))
    return np.array(rates), np.array(quality)


def too_few_points(anchor: list[Point], test: list[Point], metric: str) -> bool:
    """True when either curve has fewer than MIN_RELIABLE_POINTS distinct points: the BD-rate needs a warning."""
    return any((curve := rd_curve(p, metric)) is None or len(curve[0]) < MIN_RELIABLE_POINTS for p in (anchor, test))


def bd_rate(anchor: list[Point], test: list[Point], metric: str) -> float | None:
    """BD-rate in percent, or None when the curves have too few points or do not overlap in quality."""
    import bjontegaard

    a, t = rd_curve(anchor, metric), rd_curve(test, metric)
    if a is None or t is None:
        return None
    if min(a[1].max(), t[1].max()) <= max(a[1].min(), t[1].min()):
        return None  # no common quality range
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = bjontegaard.bd_rate(a[0], a[1], t[0], t[1], method="pchip", require_matching_points=False)
    except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
        return None
    return float(value) if np.isfinite(value) else None


def bd_rate_table(points: list[Point], anchor: str, metrics=BD_METRICS) -> dict[str, dict[str, dict[str, float | None]]]:
    """{video: {codec: {metric: BD-rate %}}} for every codec but the anchor."""
    table: dict = {}
    for video in sorted({p.video for p in points}):
        mine = [p for p in points if p.video == video]
        anchor_points = [p for p in mine if p.codec == anchor]
        if not anchor_points:
            continue
        for codec in sorted({p.codec for p in mine} - {anchor}):
            test = [p for p in mine if p.codec == codec]
            table.setdefault(video, {})[codec] = {m: bd_rate(anchor_points, test, m) for m in metrics}
    return table
