"""Training keyframe interpolations: each cached video interpolated between coded keyframes as the receiver does,
and clips that crop video, prediction and occlusion alike."""

import numpy as np
import pytest

from genvc.errors import InputError
from genvc.methods.interp import receiver_inputs
from genvc.training.config import DataConfig, TrainConfig
from genvc.training.data import ClipDataset, ValidationClips, split_ranges
from genvc.training.frame_cache import build_frame_cache, find_videos
from genvc.training.keyframe_cache import INTERVAL, build_keyframe_cache, keyframe_indices, positions
from genvc.training.receiver import coded_keyframe, coded_receiver_inputs

CRFS = [30, 60]


@pytest.fixture(scope="module")
def cached(video_folder, tmp_path_factory):
    videos = find_videos(video_folder)
    paths = build_frame_cache(videos, 40, tmp_path_factory.mktemp("cache"))
    return paths, [str(v.relative_to(video_folder)) for v in videos], build_keyframe_cache(paths, CRFS)


def test_keyframes_every_interval_and_the_last_and_each_frames_place_between_them():
    assert INTERVAL == 45
    np.testing.assert_array_equal(keyframe_indices(100), [0, 45, 90, 99])
    np.testing.assert_array_equal(keyframe_indices(45), [0, 44])
    np.testing.assert_allclose(positions([0, 9, 45, 46, 94, 99], 100), [0, 0.2, 0, 1 / 45, 4 / 9, 1])


def test_each_video_is_interpolated_between_its_coded_keyframes_as_the_receiver_does(cached):
    paths, _, keyframes = cached
    for path in paths:
        frames = np.load(path)
        keys = keyframe_indices(len(frames))
        (fine, fine_occ), (coarse, _) = [(np.load(p), np.load(o)) for p, o in keyframes[path]]
        assert fine.shape == frames.shape and fine_occ.shape == (*frames.shape[:3], 1) and fine.dtype == np.uint8
        lo, hi = keys[-2], keys[-1]
        first, last = (coded_keyframe(frames[k], CRFS[0]) for k in (lo, hi))
        expected = receiver_inputs(first, last, int(hi - lo + 1))
        np.testing.assert_array_equal(fine[lo:hi + 1], expected["prediction"])
        np.testing.assert_array_equal(fine_occ[lo:hi + 1], expected["occlusion"][..., :1])
        assert np.abs(coarse.astype(int) - frames).mean() > np.abs(fine.astype(int) - frames).mean()
    mtimes = [p.stat().st_mtime_ns for v in keyframes.values() for pair in v for p in pair]
    assert build_keyframe_cache(paths, CRFS) == keyframes  # a second call makes nothing
    assert [p.stat().st_mtime_ns for v in keyframes.values() for pair in v for p in pair] == mtimes


def test_clips_crop_video_prediction_and_occlusion_alike(cached):
    paths, names, keyframes = cached
    config = DataConfig(clip_frames=3, frame_stride=(1, 1), crop=(16, 16), val_clips=4,
                        conditions="genvc.training.receiver:coded_receiver_inputs", keyframes=CRFS,
                        keyframe_share=0.5)
    train, val = split_ranges(paths, names, config)
    dataset = ClipDataset(train, config, seed=0, keyframes=keyframes)
    variants = [dataset.prediction_variant(0, i) for i in range(len(dataset))]
    assert {None, 0, 1} <= set(variants)
    for index, variant in enumerate(variants):
        if variant is None:
            continue
        frange, start, _, (y, x) = dataset.clip_plan(0, index)
        conditions = dataset[(0, index)]["conditions"]
        prediction, occlusion = (np.load(p) for p in keyframes[frange.path][variant])
        crop = (slice(start, start + 3), slice(y, y + 16), slice(x, x + 16))
        got = ((conditions["prediction"].permute(1, 2, 3, 0).numpy() + 1) * 127.5).round()
        np.testing.assert_array_equal(got, prediction[crop])
        got_occ = ((conditions["occlusion"][0].numpy() + 1) * 127.5).round()
        np.testing.assert_array_equal(got_occ, occlusion[crop][..., 0])
        np.testing.assert_allclose(conditions["position"].numpy(), positions(np.arange(start, start + 3),
                                                                                len(prediction)))
        np.testing.assert_array_equal(conditions["source"].numpy(), [0.0, 1.0])  # keyframe interpolation
    kinds = ["position" in ValidationClips(val, config, keyframes=keyframes)[i]["conditions"] for i in range(4)]
    assert kinds == [False, True, False, True]  # every other validation clip has a keyframe variant


def test_without_a_variant_the_hook_codes_the_clips_own_keyframes_and_config_errors_are_clear():
    frames = np.random.default_rng(0).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    inputs = coded_receiver_inputs(frames)
    assert "position" not in inputs and inputs["prediction"].shape == frames.shape
    with pytest.raises(InputError, match="keyframes"):
        TrainConfig.from_dict({"data": {"keyframes": [40]}})
    with pytest.raises(InputError, match="keyframe_share"):
        TrainConfig.from_dict({"data": {"keyframe_share": 1.5}})
