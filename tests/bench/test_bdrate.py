import numpy as np
import pytest

from genvc.bench.bdrate import bd_rate, bd_rate_table
from genvc.bench.store import Point


def point(codec, bpp, psnr, reached=True, lpips=None):
    return Point(video="v", codec=codec, preset="p", frames=10, width=64, height=64, target_bpp=bpp, bpp=bpp,
                 bytes=int(bpp * 1e6), total_bytes=int(bpp * 1e6), reached=reached, q=1,
                 metrics={"psnr_y": psnr, "lpips": lpips}, encode_s=1.0, decode_s=1.0, metrics_s=1.0,
                 encode_peak_mb=1.0, decode_peak_mb=1.0)


def curve(codec, scale, lpips=False):
    rates = np.array([0.002, 0.005, 0.01, 0.02])
    return [point(codec, r * scale, 30 + 4 * np.log2(r / 0.002), lpips=(0.5 - 0.05 * i) if lpips else None)
            for i, r in enumerate(rates)]


def test_same_quality_at_80_percent_of_the_bits_is_minus_20_percent():
    assert bd_rate(curve("a", 1.0), curve("b", 0.8), "psnr_y") == pytest.approx(-20.0, abs=1e-6)
    assert bd_rate(curve("a", 1.0), curve("b", 1.25), "psnr_y") == pytest.approx(25.0, abs=1e-6)


def test_lower_is_better_metrics_are_flipped():
    assert bd_rate(curve("a", 1.0, True), curve("b", 0.5, True), "lpips") == pytest.approx(-50.0, abs=1e-6)


def test_repeated_floor_points_count_once_and_missing_metrics_give_none():
    anchor = curve("a", 1.0)
    floor = [point("b", 0.004, 33.0, reached=False)] * 3 + [point("b", 0.02, 43.0)]
    assert bd_rate(anchor, floor, "psnr_y") is not None
    assert bd_rate(anchor, [point("b", 0.004, 33.0, reached=False)] * 4, "psnr_y") is None
    assert bd_rate(anchor, curve("b", 0.8), "vmaf") is None
    table = bd_rate_table(anchor + curve("b", 0.8), "a", metrics=("psnr_y",))
    assert table["v"]["b"]["psnr_y"] == pytest.approx(-20.0, abs=1e-6)
