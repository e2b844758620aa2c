"""The per-clip scale search: full size is always a candidate, the search stops early, and on synthetic-motion
clips its choice never loses more than the guarantee (1 VMAF) to plain vvenc at full size at the same bytes."""

import numpy as np
import pytest

from genvc.bench.synthetic import SYNTHETIC, synthetic_video
from genvc.inter import decode_sketch, encode_sketch
from genvc.inter.scale_search import PATIENCE
from genvc.judge import sample_frames
from genvc.ladders import MAX_SCALE, SKETCH_SCALES as LADDER, ladder_near
from genvc.metrics.vmaf import vmaf

SIZE = (72, 128)  # tiny, but VMAF needs 64 px a side


@pytest.fixture(scope="module")
def clips():
    return {name: synthetic_video(name, 8, SIZE) for name in ("synth-pan", "synth-cut")}


def test_synthetic_clips_are_deterministic_and_move():
    for name in SYNTHETIC:
        a, b = synthetic_video(name, 6, SIZE), synthetic_video(name, 6, SIZE)
        assert a.frames.shape == (6, *SIZE, 3) and np.array_equal(a.frames, b.frames)
        assert np.abs(a.frames[-1].astype(int) - a.frames[0]).mean() > 2  # something moves
    cut = synthetic_video("synth-cut", 8, SIZE).frames.astype(int)
    steps = [np.abs(cut[t + 1] - cut[t]).mean() for t in range(7)]
    assert int(np.argmax(steps)) == 3 and steps[3] > 3 * max(steps[:3] + steps[4:])  # one hard cut, mid-clip


def test_full_size_is_judged_first_and_the_search_stops_after_patience_falls(clips):
    frames = clips["synth-pan"].frames
    judged = []

    def judge(decoded, scale, qp):
        assert decoded.shape == (len(sample_frames(len(frames))), *SIZE, 3)
        judged.append(scale)
        return -scale  # quality falls with every coarser scale

    code = encode_sketch(frames, 3000, 25.0, judge=judge)
    assert judged == list(LADDER[:1 + PATIENCE])
    assert code.scale < 1.5 and len(code.data) <= 3000


@pytest.mark.parametrize("name, budget", [("synth-pan", 2500), ("synth-cut", 700)])  # ~0.09 and 0.025 bpp
def test_the_choice_never_loses_more_than_1_vmaf_to_full_size_vvenc(clips, name, budget):
    frames = clips[name].frames
    h, w = SIZE
    chosen = encode_sketch(frames, budget, 25.0)
    full = encode_sketch(frames, budget, 25.0, scale=1)  # vvenc medium at full size, same budget
    assert len(chosen.data) <= budget and len(full.data) <= budget
    ours = vmaf(frames, decode_sketch(chosen.data, w, h, chosen.scale, len(frames)))
    theirs = vmaf(frames, decode_sketch(full.data, w, h, 1, len(frames)))
    assert ours >= theirs - 1.0, (name, budget, chosen.scale, chosen.qp, ours, theirs)


@pytest.mark.parametrize("num_frames", [16, 30, 45, 46, 90, 300])
def test_the_judged_sample_is_one_run_of_neighbours_in_every_fifth_of_the_clip(num_frames):
    sample = sample_frames(num_frames)
    assert len(sample) == 15 and all(0 <= t < num_frames for t in sample)
    runs = np.split(np.array(sample), np.flatnonzero(np.diff(sample) != 1) + 1) if num_frames > 20 else None
    if runs is not None:  # long clips: five separate runs of three, one per fifth (stratified)
        assert [len(r) for r in runs] == [3] * 5
        assert sorted(int(r[1] * 5 // num_frames) for r in runs) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("scale, near", [(1, (1, 1.5)), (1.0625, (1, 1.5, 2)), (1.875, (1, 1.5, 2, 3)),
                                         (3, (2, 3, 4)), (MAX_SCALE, LADDER[-2:])])
def test_a_second_search_looks_one_ladder_step_around_the_chosen_scale(scale, near):
    assert ladder_near(scale) == near


def test_a_stream_asked_for_again_is_not_coded_again(monkeypatch):
    from genvc.inter import vvc as sketch

    calls = []
    real = sketch.vvenc_annexb
    monkeypatch.setattr(sketch, "vvenc_annexb", lambda *a, **k: calls.append(a[1:]) or real(*a, **k))
    frames = synthetic_video("synth-pan", 4, SIZE).frames
    first = sketch.encode_small(frames, 47, 25.0)
    assert sketch.encode_small(frames.copy(), 47, 25.0) == first and len(calls) == 1  # same input and settings: remembered
    sketch.encode_small(frames, 48, 25.0)
    moved = frames.copy()
    moved[0, 0, 0] ^= 1
    sketch.encode_small(moved, 47, 25.0)
    assert len(calls) == 3  # another QP, one changed pixel: coded
