"""Encoder presets (issue 28): slow is the whole measured search; medium and fast predict the sketch's scale from
one probe and search less; every preset's stream decodes with the same decoder."""

import numpy as np
import pytest

from genvc.codec import EncodeConfig, decode, encode
from genvc.errors import InputError
from genvc.methods.base import MethodOptions
from genvc.presets import DEFAULT_PRESET, PRESETS


@pytest.fixture(scope="module")
def video(make_square_video):
    return make_square_video(num_frames=14, height=64, width=96)


def test_an_unknown_preset_is_one_input_error():
    with pytest.raises(InputError, match="preset must be one of"):
        MethodOptions.parse({"preset": "placebo"})
    assert MethodOptions().preset == DEFAULT_PRESET == "medium" and set(PRESETS) == {"fast", "medium", "slow"}


def test_a_smaller_budget_never_predicts_a_finer_scale(video):
    from genvc.inter.scale_search import predict_scale

    frames = video.frames
    pixels = frames.size // 3
    scales = [predict_scale(frames, int(bpp * pixels / 8), 25.0) for bpp in (0.4, 0.1, 0.02)]
    assert scales == sorted(scales)  # coarser as the budget falls


@pytest.mark.parametrize("preset, searched", [("fast", 1), ("medium", 3)])
def test_fast_presets_search_the_predicted_scale_and_its_neighbours(video, tiny_generator, monkeypatch, preset,
                                                                     searched):
    from genvc.inter import scale_search
    from genvc.ladders import SKETCH_SCALES

    ladders, real = [], scale_search.search_scales
    monkeypatch.setattr(scale_search, "search_scales", lambda *a, **k: ladders.append(a[4]) or real(*a, **k))
    predicted = []
    real_predict = scale_search._scale_for
    monkeypatch.setattr(scale_search, "_scale_for",
                        lambda *a, **k: predicted.append(real_predict(*a, **k)) or predicted[-1])
    data = encode(video, EncodeConfig(method="sketch", bpp=0.1, model=str(tiny_generator), shot_detection=False,
                                      method_options={"preset": preset}))
    assert ladders and predicted and predicted[0] in ladders[0]
    index = SKETCH_SCALES.index(predicted[0])
    assert len(ladders[0]) == len(SKETCH_SCALES[max(0, index - (searched // 2)):index + searched // 2 + 1])
    assert decode(data, model=str(tiny_generator)).frames.shape == video.frames.shape
    assert len(data) * 8 / video.num_pixels <= 0.1 * 1.02


def test_medium_codes_the_stream_once(make_square_video, tiny_generator, monkeypatch):
    """Two clips of unequal difficulty: slow codes the stream twice, by frames and with equal QPs
    (test_sketch_method.py::test_clips_share_the_bytes_by_measurement); medium keeps the shares by frames."""
    from genvc.codec import search

    video = make_square_video(14, 48, 64)
    noise = np.random.default_rng(0).normal(0, 24, (7, 48, 64, 3))
    video.frames = np.concatenate([video.frames[:7], np.clip(video.frames[7:] + noise, 0, 255).astype(np.uint8)])
    calls, real = [], search.encode_once
    monkeypatch.setattr(search, "encode_once", lambda *a, **k: calls.append(1) or real(*a, **k))
    encode(video, EncodeConfig(method="sketch", bpp=0.5, interval=7, model=str(tiny_generator),
                               shot_detection=False, method_options={"preset": "medium"}))
    assert len(calls) == 1


def test_the_cli_takes_a_preset_and_shows_it_in_help(tmp_path, make_square_video, capsys):
    from genvc.cli import main
    from genvc.io import write_video

    source = tmp_path / "in.y4m"
    write_video(source, make_square_video(8, 48, 64))
    assert main(["encode", str(source), "-o", str(tmp_path / "f.gvc"), "--bpp", "0.2", "--preset", "fast",
                 "--no-shot-detection", "-q"]) == 0
    assert main(["decode", str(tmp_path / "f.gvc"), "-o", str(tmp_path / "f.y4m"), "-q"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["encode", "--help"])
    assert "--preset {slow,medium,fast}" in capsys.readouterr().out


def test_the_bench_times_each_point_as_a_fresh_encode(make_square_video, tiny_generator):
    """An encode remembers its vvenc streams and judged scores (the searches ask for them again); the bench drops
    them between points, so a preset coded after another is not timed on the other's work."""
    from genvc import judge
    from genvc.codec.encoder import _METHODS, forget_measurements
    from genvc.inter import vvc

    encode(make_square_video(8, 48, 64), EncodeConfig(method="sketch", bpp=0.2, model=str(tiny_generator),
                                                      shot_detection=False))
    assert vvc._MEMO.streams and _METHODS
    forget_measurements()
    assert not vvc._MEMO.streams and vvc._MEMO.bytes == 0 and not _METHODS and not judge._references
