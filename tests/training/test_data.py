import numpy as np
import pytest
import torch

from genvc.errors import InputError
from genvc.training.config import DataConfig
from genvc.training.data import ClipDataset, ResumableBatchSampler, ValidationClips, split_ranges
from genvc.training.frame_cache import build_frame_cache, find_videos


@pytest.fixture(scope="module")
def cached(video_folder, tmp_path_factory):
    videos = find_videos(video_folder)
    cache = tmp_path_factory.mktemp("cache")
    paths = build_frame_cache(videos, 40, cache)
    names = [str(v.relative_to(video_folder)) for v in videos]
    return paths, names, cache


def test_finds_videos_recursively_and_caches_resized_frames(video_folder, cached):
    paths, names, cache = cached
    assert names == ["a.mp4", "sub/b.mkv"]  # notes.txt skipped
    arrays = [np.load(p) for p in paths]
    assert [a.shape for a in arrays] == [(40, 40, 71, 3), (50, 40, 71, 3)]  # 160×90 -> short side 40
    mtimes = [p.stat().st_mtime_ns for p in paths]
    assert build_frame_cache(find_videos(video_folder), 40, cache) == paths  # second call: no re-decode
    assert [p.stat().st_mtime_ns for p in paths] == mtimes
    assert build_frame_cache(find_videos(video_folder), 32, cache) != paths  # another resize: another entry


def test_excluded_globs_leave_videos_out(video_folder):
    assert [p.name for p in find_videos(video_folder, exclude=["sub/*"])] == ["a.mp4"]
    assert [p.name for p in find_videos(video_folder, exclude=["*.mkv", "nothing/*"])] == ["a.mp4"]


def test_clip_shapes_range_and_determinism(cached):
    paths, names, _ = cached
    config = DataConfig(clip_frames=9, frame_stride=(1, 3), crop=(24, 32), val_clips=1)
    train, _ = split_ranges(paths, names, config)
    dataset = ClipDataset(train, config, seed=7)
    clip = dataset[(0, 1)]["video"]
    assert clip.shape == (3, 9, 24, 32) and clip.dtype == torch.float32
    assert -1.0 <= clip.min() < clip.max() <= 1.0
    assert torch.equal(clip, ClipDataset(train, config, seed=7)[(0, 1)]["video"])  # a fresh dataset agrees
    plans = {dataset.clip_plan(epoch, 1)[1:] for epoch in range(8)}
    assert len(plans) > 1  # the same index gets other clips in other epochs
    strides = {dataset.clip_plan(epoch, i)[2] for epoch in range(3) for i in range(len(dataset))}
    assert strides <= {1, 2, 3} and len(strides) > 1


def test_clip_frames_follow_the_plan(cached):
    paths, names, _ = cached
    config = DataConfig(clip_frames=5, frame_stride=(2, 2), crop=(16, 16), val_clips=0)
    train, _ = split_ranges(paths, names, config)
    dataset = ClipDataset(train, config, seed=0)
    frange, start, stride, (y, x) = dataset.clip_plan(3, 4)
    expected = np.load(frange.path)[start : start + 9 : 2, y : y + 16, x : x + 16]
    got = ((dataset[(3, 4)]["video"].permute(1, 2, 3, 0) + 1) * 127.5).round().to(torch.uint8).numpy()
    assert stride == 2 and np.array_equal(got, expected)


def test_validation_frames_are_never_trained_on(cached):
    paths, names, _ = cached
    config = DataConfig(clip_frames=5, crop=(16, 16), val_clips=2, frame_stride=(1, 4))
    train, val = split_ranges(paths, names, config)
    assert [(r.start, r.stop) for r in val] == [(40, 50)]  # last video's last 2×5 frames
    dataset = ClipDataset(train, config, seed=0)
    for epoch in range(3):
        for index in range(len(dataset)):
            frange, start, stride, _ = dataset.clip_plan(epoch, index)
            assert frange.start <= start and start + 4 * stride < frange.stop
            assert not (frange.path == val[0].path and start + 4 * stride >= 40)
    clips = ValidationClips(val, config)
    assert clips.clips == [(val[0].path, 40), (val[0].path, 45)]
    assert clips[0]["video"].shape == (3, 5, 16, 16)

    named = DataConfig(clip_frames=5, crop=(16, 16), val_videos=["a.mp4"], val_clips=3)
    train, val = split_ranges(paths, names, named)
    assert [r.path for r in train] == [paths[1]] and [(r.path, r.length) for r in val] == [(paths[0], 40)]
    with pytest.raises(InputError, match="not found"):
        split_ranges(paths, names, DataConfig(val_videos=["missing.mp4"]))


def test_too_large_crop_and_too_long_clips_are_clear_errors(cached):
    paths, names, _ = cached
    with pytest.raises(InputError, match="larger than the"):
        config = DataConfig(clip_frames=5, crop=(64, 64))
        ClipDataset(split_ranges(paths, names, config)[0], config, 0)[(0, 0)]
    with pytest.raises(InputError, match="no training video has 97 frames"):
        split_ranges(paths, names, DataConfig(clip_frames=97))


def test_sampler_resumes_mid_stream_and_does_not_depend_on_process_count():
    full = ResumableBatchSampler(10, 4, seed=3)
    stream = [next(it) for it in [iter(full)] for _ in range(6)]  # 24 samples: crosses two epoch boundaries
    flat = [key for batch in stream for key in batch]
    assert sorted(i for e, i in flat if e == 0) == list(range(10))  # each epoch is a permutation
    resumed = iter(ResumableBatchSampler(10, 4, seed=3, start_sample=8))
    assert [next(resumed) for _ in range(4)] == stream[2:]
    shards = [iter(ResumableBatchSampler(10, 4, seed=3, rank=r, world=2)) for r in range(2)]
    for batch in stream:
        a, b = next(shards[0]), next(shards[1])
        assert sorted(a + b) == sorted(batch) and len(a) == len(b) == 2
    with pytest.raises(InputError, match="divisible"):
        ResumableBatchSampler(10, 3, seed=0, world=2)


def test_conditions_hook_renders_each_clip(cached):
    paths, names, _ = cached
    config = DataConfig(clip_frames=5, crop=(16, 16), val_clips=1, conditions="train_helpers:negative_conditions")
    train, val = split_ranges(paths, names, config)
    sample = ClipDataset(train, config, seed=0)[(0, 2)]
    assert set(sample["conditions"]) == {"negative"}
    assert torch.allclose(sample["conditions"]["negative"], -sample["video"], atol=1e-6)
    assert ValidationClips(val, config)[0]["conditions"]["negative"].shape == (3, 5, 16, 16)
    with pytest.raises(InputError, match="cannot load"):
        bad = DataConfig(clip_frames=5, crop=(16, 16), conditions="train_helpers:missing")
        ClipDataset(train, bad, seed=0)[(0, 0)]


def test_conditions_hook_can_ask_for_the_whole_frames_around_the_crop(cached):
    paths, names, _ = cached
    config = DataConfig(clip_frames=5, frame_stride=(2, 2), crop=(16, 16), val_clips=1,
                        conditions="train_helpers:whole_frames_echo")
    train, val = split_ranges(paths, names, config)
    for sample in (ClipDataset(train, config, seed=0)[(0, 1)], ValidationClips(val, config)[0]):
        assert torch.equal(sample["conditions"]["recut"], sample["video"])


def test_uncached_decoding_gives_the_same_clips(video_folder, cached):
    paths, names, _ = cached
    config = DataConfig(clip_frames=5, frame_stride=(1, 3), crop=(24, 24), resize=40, val_clips=1, cache=False)
    videos = find_videos(video_folder)
    train_files, val_files = split_ranges(videos, names, config)
    train_cached, _ = split_ranges(paths, names, config)
    assert [r.length for r in train_files] == [r.length for r in train_cached]
    on_the_fly, from_cache = ClipDataset(train_files, config, seed=1), ClipDataset(train_cached, config, seed=1)
    for key in [(0, 0), (0, 5), (2, 7)]:
        assert torch.equal(on_the_fly[key]["video"], from_cache[key]["video"])
    assert ValidationClips(val_files, config)[0]["video"].shape == (3, 5, 24, 24)
