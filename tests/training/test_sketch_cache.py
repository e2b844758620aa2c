"""Training sketches: each cached video coded as the codec's sketch, and clips that crop video and sketch alike."""

import numpy as np
import pytest

from genvc.errors import InputError
from genvc.training.config import DataConfig, TrainConfig
from genvc.training.data import ClipDataset, ValidationClips, split_ranges
from genvc.training.frame_cache import build_frame_cache, find_videos
from genvc.training.sketch_cache import build_sketch_cache, upsampled

VARIANTS = [(2.0, 36), (4.0, 30)]


@pytest.fixture(scope="module")
def cached(video_folder, tmp_path_factory):
    videos = find_videos(video_folder)
    paths = build_frame_cache(videos, 40, tmp_path_factory.mktemp("cache"))
    return paths, [str(v.relative_to(video_folder)) for v in videos], build_sketch_cache(paths, VARIANTS)


def _psnr(a, b) -> float:
    return 10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2))


def test_each_video_is_coded_once_per_variant_like_the_codec(cached):
    paths, _, sketches = cached
    for path in paths:
        frames = np.load(path)
        t, h, w = frames.shape[:3]
        coded = [np.load(p) for p in sketches[path]]
        # stored at the coded size (1/scale), brought back as the decoder does
        assert [c.shape for c in coded] == [(t, round(h / s), round(w / s), 3) for s, _ in VARIANTS]
        full = [upsampled(c, w, h, s) for c, (s, _) in zip(coded, VARIANTS)]
        assert all(c.dtype == np.uint8 for c in coded)
        assert 20 < _psnr(full[1], frames) < _psnr(full[0], frames) < 60  # coarser scale: further from x
    mtimes = [p.stat().st_mtime_ns for v in sketches.values() for p in v]
    assert build_sketch_cache(paths, VARIANTS) == sketches  # a second call codes nothing
    assert [p.stat().st_mtime_ns for v in sketches.values() for p in v] == mtimes


def test_clips_crop_video_and_sketch_alike(cached):
    paths, names, sketches = cached
    config = DataConfig(clip_frames=5, crop=(16, 16), val_clips=4, conditions="train_helpers:sketch_echo",
                        sketches=VARIANTS, sketch_share=0.5)
    train, val = split_ranges(paths, names, config)
    dataset = ClipDataset(train, config, seed=0, sketches=sketches)
    variants = [dataset.sketch_variant(0, i) for i in range(len(dataset))]
    assert {None, 0, 1} <= set(variants)  # both predictions, every variant
    assert variants == [ClipDataset(train, config, seed=0, sketches=sketches).sketch_variant(0, i)
                        for i in range(len(dataset))]  # deterministic
    for index, variant in enumerate(variants[:6]):
        frange, start, stride, (y, x) = dataset.clip_plan(0, index)
        sample = dataset[(0, index)]
        source = np.load(frange.path)
        if variant is not None:
            scale = VARIANTS[variant][0]
            source = upsampled(np.load(sketches[frange.path][variant]), source.shape[2], source.shape[1], scale)
        expected = source[start:start + 4 * stride + 1:stride, y:y + 16, x:x + 16]
        got = ((sample["conditions"]["prediction"].permute(1, 2, 3, 0).numpy() + 1) * 127.5).round()
        np.testing.assert_array_equal(got, expected)
        assert sample["conditions"]["scale"].item() == (0 if variant is None else VARIANTS[variant][0])
        assert sample["conditions"]["qp"].item() == (0 if variant is None else VARIANTS[variant][1])
    val_scales = [ValidationClips(val, config, sketches)[i]["conditions"]["scale"].item() for i in range(4)]
    assert val_scales == [0, 2.0, 0, 4.0]  # every other validation clip has a sketch, variants in turn


def test_no_sketches_without_a_share_and_a_clear_error_without_a_hook(cached):
    paths, names, sketches = cached
    config = DataConfig(clip_frames=5, crop=(16, 16), conditions="train_helpers:sketch_echo", sketches=VARIANTS,
                        sketch_share=0.0)
    dataset = ClipDataset(split_ranges(paths, names, config)[0], config, seed=0, sketches=sketches)
    assert all(dataset.sketch_variant(0, i) is None for i in range(len(dataset)))
    with pytest.raises(InputError, match="sketches"):
        TrainConfig.from_dict({"data": {"sketches": [[2, 40]]}})

