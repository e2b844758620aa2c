import numpy as np
import pytest

from genvc.clipplan import Clip, ClipPlan, plan_clips, shot_probabilities
from genvc.io import read_video
from genvc.samples import sample_path


def test_interval_only_shares_keyframes():
    plan = plan_clips(None, 100, interval=45)
    assert plan.clips == (Clip(0, 45), Clip(45, 90), Clip(90, 99))
    assert plan.keyframes == [0, 45, 90, 99]
    plan.validate()


def test_shot_boundary_offsets_next_clip():
    probs = np.zeros(60)
    probs[29] = 0.9  # last frame of the first shot
    plan = plan_clips(probs, 60, interval=45)
    assert plan.clips == (Clip(0, 29), Clip(30, 59))
    assert plan.keyframes == [0, 29, 30, 59]


def test_interval_counts_from_shot_keyframe():
    probs = np.zeros(100)
    probs[10] = 0.99
    plan = plan_clips(probs, 100, interval=45)
    assert plan.clips == (Clip(0, 10), Clip(11, 55), Clip(55, 99))


def test_runs_above_threshold_merge_or_not():
    probs = np.zeros(40)
    probs[20:23] = 0.8  # a dissolve
    assert plan_clips(probs, 40).clips == (Clip(0, 22), Clip(23, 39))
    verbatim = plan_clips(probs, 40, merge_runs=False)
    assert verbatim.clips == (Clip(0, 20), Clip(21, 21), Clip(22, 22), Clip(23, 39))
    verbatim.validate()


def test_cut_on_last_frame_and_tiny_videos():
    probs = np.zeros(10)
    probs[9] = 0.9
    assert plan_clips(probs, 10).clips == (Clip(0, 9),)
    assert plan_clips(None, 1).clips == (Clip(0, 0),)
    assert plan_clips(None, 2).clips == (Clip(0, 1),)


@pytest.mark.parametrize("clips", [(Clip(1, 5),), (Clip(0, 4), Clip(6, 9)), (Clip(0, 5), Clip(4, 9)), (Clip(0, 8),)])
def test_validate_rejects_gaps_and_overlaps(clips):
    with pytest.raises(ValueError):
        ClipPlan(10, clips).validate()


def test_bikes_hard_cut_at_frame_30_is_a_clip_boundary():
    video = read_video(sample_path("bikes"), max_frames=60)
    probs = shot_probabilities(video.frames)
    plan = plan_clips(probs, video.num_frames, interval=45)
    assert Clip(0, 29) in plan.clips and any(c.start == 30 for c in plan.clips)
    assert probs[29] > 0.5 and (probs[:29] < 0.5).all()
