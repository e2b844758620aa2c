import math

import pytest

from genvc.bench.baselines import BASELINES, encode_frames
from genvc.ratesearch import search_quality


def exponential(q):
    return int(200_000 * 2 ** (-q / 5.3)) + (q % 3)  # roughly exponential, with a little non-smoothness


@pytest.mark.parametrize("target", [300, 777, 1500, 9000, 40_000, 150_000])
def test_search_finds_the_smallest_fitting_parameter(target):
    calls = []
    result = search_quality(lambda q: calls.append(q) or exponential(q), target, 0, 63)
    brute = min(q for q in range(64) if exponential(q) <= target)
    assert result.reached and result.q == brute and result.size <= target
    assert len(calls) <= 8  # far fewer than the 64 a scan would need


def test_unreachable_target_reports_the_floor():
    result = search_quality(exponential, 10, 0, 63)
    assert not result.reached and result.q == 63 and result.size == exponential(63)


def test_cache_is_shared_between_targets():
    cache, calls = {}, []
    f = lambda q: calls.append(q) or exponential(q)  # noqa: E731
    search_quality(f, 1000, 0, 63, cache)
    first = len(calls)
    again = search_quality(f, 1000, 0, 63, cache)
    assert len(calls) == first and again.trace == []


def test_x264_on_a_tiny_clip_meets_the_target():
    from genvc.io import read_video
    from genvc.samples import sample_path

    video = read_video(sample_path("cuts"), max_frames=4)
    baseline = BASELINES["x264"]
    target = 0.05 * video.num_pixels / 8
    size = lambda q: encode_frames(baseline, video.frames, video.fps, q, preset="veryfast").bytes.picture  # noqa
    result = search_quality(size, target, baseline.q_min, baseline.q_max)
    assert result.reached and result.size <= target
    if result.q > baseline.q_min:
        assert size(result.q - 1) > target  # one step better quality would overshoot
    assert math.isclose(result.size, size(result.q))


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_first_true_finds_the_boundary_in_log_steps(n):
    from genvc.ratesearch import first_true

    for boundary in range(n + 1):
        seen = []
        assert first_true(n, lambda i: seen.append(i) or i >= boundary) == boundary
        assert len(seen) == len(set(seen)) <= math.ceil(math.log2(n + 1))


@pytest.mark.parametrize("name", ["x264", "vvenc"])
def test_a_baseline_at_its_best_quality_codes_the_colours_it_was_given(name):
    # the colour tags once sat after -i: ffmpeg then converted our BT.709 planes as if they were BT.601, and a
    # baseline at its best quality came back at ~30 dB PSNR-Y (VMAF ~100 all the same)
    from fractions import Fraction

    import numpy as np

    from genvc.bench.baselines import decode_stream
    from genvc.metrics import psnr_yuv

    y, x = np.mgrid[0:64, 0:96]  # saturated colours, where the two matrices differ most
    frames = np.stack([np.stack([x * 2 + k, y * 3, 255 - x * 2], -1) for k in range(3)]).clip(0, 255).astype(np.uint8)
    baseline = BASELINES[name]
    stream = encode_frames(baseline, frames, Fraction(25), baseline.q_min)
    decoded = decode_stream(baseline, stream.data, 96, 64).frames
    assert psnr_yuv(frames, decoded)["y"] > 45  # 54-59 dB; 29.5-29.8 dB with the conversion
