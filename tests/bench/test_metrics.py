import math

import numpy as np
import pytest

from genvc.metrics import compute_metrics, ms_ssim, psnr_rgb, psnr_yuv, ssim
from genvc.metrics.color import rgb_to_yuv, rgb_to_yuv420_planes, yuv420_planes_to_rgb, yuv_to_rgb
from genvc.metrics.ssim import ms_ssim_levels


def smooth_clip(t=3, h=64, w=96, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([128 + 60 * np.sin(xx / 7.0 + c) * np.cos(yy / 5.0) for c in range(3)], axis=-1)
    frames = [np.clip(base + rng.normal(0, 10, base.shape) + 5 * i, 0, 255) for i in range(t)]
    return np.stack(frames).astype(np.uint8)


def noisy(frames, sigma, seed=1):
    rng = np.random.default_rng(seed)
    return np.clip(frames.astype(np.float64) + rng.normal(0, sigma, frames.shape), 0, 255).round().astype(np.uint8)


def test_psnr_known_value_and_identical():
    a = np.full((2, 16, 16, 3), 100, np.uint8)
    b = a + 5  # MSE 25 everywhere
    assert psnr_rgb(a, b) == pytest.approx(20 * math.log10(255 / 5))
    assert psnr_rgb(a, a) == math.inf
    # A lossless frame inside a lossy video is capped, so the average stays finite.
    mixed = b.copy()
    mixed[0] = a[0]
    assert math.isfinite(psnr_rgb(a, mixed))


def test_psnr_yuv_weights_and_grey_chroma():
    a = np.full((1, 8, 8, 3), 100, np.uint8)
    b = a + 4  # a grey shift changes Y by 4 and leaves U, V exactly unchanged
    out = psnr_yuv(a, b)
    assert out["y"] == pytest.approx(20 * math.log10(255 / 4))
    assert out["u"] == math.inf and out["v"] == math.inf
    c = noisy(smooth_clip(), 6)
    o = psnr_yuv(smooth_clip(), c)
    assert o["yuv"] == pytest.approx((6 * o["y"] + o["u"] + o["v"]) / 8)


@pytest.mark.parametrize("matrix", ["bt601", "bt709"])
@pytest.mark.parametrize("full", [True, False])
def test_colour_conversion_round_trip(matrix, full):
    rgb = smooth_clip(1)[0]
    back = yuv_to_rgb(rgb_to_yuv(rgb, matrix, full), matrix, full)
    np.testing.assert_allclose(back, rgb, atol=1e-9)
    white = rgb_to_yuv(np.full((1, 1, 3), 255.0), matrix, full)[0, 0]
    np.testing.assert_allclose(white, [255, 128, 128] if full else [235, 128, 128], atol=1e-9)


def test_yuv420_round_trip_of_a_flat_colour_is_exact():
    frame = np.zeros((4, 6, 3), np.uint8)
    frame[...] = (200, 30, 90)
    raw = rgb_to_yuv420_planes(frame)
    assert len(raw) == 4 * 6 * 3 // 2
    back = yuv420_planes_to_rgb(raw, 6, 4)
    assert np.abs(back.astype(int) - frame).max() <= 2  # 8-bit quantisation of Y'CbCr only


def test_ssim_matches_scikit_image():
    metrics = pytest.importorskip("skimage.metrics")
    a = smooth_clip()
    b = noisy(a, 12)
    ref = np.mean([metrics.structural_similarity(a[i], b[i], channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                                 use_sample_covariance=False, data_range=255) for i in range(len(a))])
    assert ssim(a, b) == pytest.approx(ref, abs=1e-5)
    assert ssim(a, a) == pytest.approx(1.0)


def test_ms_ssim_matches_pytorch_msssim():
    pm = pytest.importorskip("pytorch_msssim")
    import torch

    a = smooth_clip(2, 176, 168)  # big enough for all five scales, odd halvings included
    b = noisy(a, 15)
    ref = pm.ms_ssim(torch.tensor(a).permute(0, 3, 1, 2).double(), torch.tensor(b).permute(0, 3, 1, 2).double(),
                     data_range=255).item()
    assert ms_ssim(a, b) == pytest.approx(ref, abs=2e-5)
    assert ms_ssim(a, a) == pytest.approx(1.0)
    assert ms_ssim(a, noisy(a, 30)) < ms_ssim(a, b) < 1.0


def test_ms_ssim_uses_fewer_scales_on_small_frames():
    assert ms_ssim_levels(720, 1280) == 5
    assert ms_ssim_levels(90, 160) == 4
    assert ms_ssim_levels(20, 20) == 1
    with pytest.raises(ValueError):
        ms_ssim_levels(8, 64)
    a = smooth_clip(1, 90, 160)
    assert 0.0 < ms_ssim(a, noisy(a, 10)) < 1.0


def test_vmaf_orders_quality():
    from genvc.ffmpeg import has_libvmaf
    from genvc.metrics.vmaf import vmaf

    if not has_libvmaf():
        pytest.skip("this ffmpeg has no libvmaf")
    a = smooth_clip(3)
    same, mild, strong = vmaf(a, a), vmaf(a, noisy(a, 8)), vmaf(a, noisy(a, 40))
    assert same > 90
    assert same > mild > strong


def test_vmaf_neg_gives_no_credit_for_sharpening_the_original():
    import cv2

    from genvc.ffmpeg import has_libvmaf
    from genvc.metrics.vmaf import VMAF_NEG, vmaf

    if not has_libvmaf():
        pytest.skip("this ffmpeg has no libvmaf")
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), (256, 192), interpolation=cv2.INTER_CUBIC)
    frames = np.stack([np.roll(base, i, axis=1) for i in range(6)])
    sharpened = np.stack([np.clip(1.7 * f.astype(float) - 0.7 * cv2.GaussianBlur(f, (0, 0), 1.5), 0, 255)
                          for f in frames]).astype(np.uint8)  # an unsharp mask: detail the original does not have
    assert vmaf(frames, sharpened) > 99  # VMAF rates the enhanced copy as perfect
    assert vmaf(frames, sharpened, model=VMAF_NEG) < vmaf(frames, frames, model=VMAF_NEG) - 3
    from genvc.judge import score  # what `--tune vmaf-neg` makes the encoder maximise

    assert score(frames, sharpened, "vmaf-neg") == vmaf(frames, sharpened, model=VMAF_NEG)
    assert score(frames, sharpened, "vmaf") == vmaf(frames, sharpened)


@pytest.mark.parametrize("chunk", [1, 4, 11, 12, 40])
def test_streamed_vmaf_equals_vmaf_over_the_whole_video(chunk):
    # chunks scored with a neighbour on each side give every frame the score it gets in one run
    from genvc.ffmpeg import has_libvmaf
    from genvc.metrics.vmaf import streamed_vmaf, vmaf

    if not has_libvmaf():
        pytest.skip("this ffmpeg has no libvmaf")
    a = smooth_clip(12, 64, 64)
    b = noisy(a, 10)
    b[6:] = np.roll(b[6:], 3, axis=2)  # motion differs between the halves
    assert streamed_vmaf(zip(a, b), chunk=chunk) == pytest.approx(vmaf(a, b), abs=1e-9)


def test_unavailable_learned_metrics_are_none_not_zero(monkeypatch, tmp_path):
    import genvc.metrics.suite as suite

    monkeypatch.setenv("GENVC_I3D", str(tmp_path / "missing.pt"))
    suite._i3d_model.cache_clear()
    try:
        a = smooth_clip(2, 32, 32)
        out = compute_metrics(a, noisy(a, 5), config=suite.MetricConfig(vmaf=False, lpips=False))
    finally:
        suite._i3d_model.cache_clear()
    assert out["lpips"] is None and out["dists"] is None and out["fvd"] is None and out["vmaf"] is None
    assert suite.format_metric(out["lpips"]) == "n/a"
    assert 20 < out["psnr_y"] < 60 and 0 < out["msssim_y"] < 1