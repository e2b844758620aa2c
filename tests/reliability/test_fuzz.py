"""A few hundred fuzz cases (the full run is `python tools/fuzz.py`), the bombs, and regressions it found."""

import collections

import pytest

from fuzz import message_template, run_case
from fuzz_bombs import bomb_cases, check_bomb, replace_keyframe_image
from fuzz_corpus import Mutator, join_units, split_units
from genvc.intra import get_codec


def test_seeds_reframe_byte_identically(fuzz_seeds):
    for data in fuzz_seeds.values():
        assert join_units(split_units(data)) == data


def test_fuzz_cases_raise_only_genvc_errors(fuzz_seeds):
    mutator = Mutator(fuzz_seeds, seed=1234)
    outcomes, messages = collections.Counter(), set()
    for _ in range(400):
        _, data = mutator.case()
        outcome, detail, stage = run_case(data, full_decode=mutator.rng.random() < 0.05)
        assert outcome != "crash", detail
        outcomes[outcome, stage] += 1
        messages.add(message_template(detail))
    # The CRC-valid mutations must get past framing: some streams parse, some decode, many checks are hit.
    assert outcomes["ok", "parse"] > 10 and outcomes["ok", "decode"] >= 1
    assert len(messages) > 25


@pytest.fixture(scope="module")
def bombs(fuzz_seeds):
    return bomb_cases(fuzz_seeds, picture_side=2048)


def test_bombs_are_refused_fast_without_allocating(bombs):
    for name, data in bombs.items():
        result = check_bomb(data)
        assert result["ok"], (name, result)


@pytest.mark.parametrize("codec", ["av1", "vvc"])
def test_oversized_keyframe_picture_is_refused_before_decoding(fuzz_seeds, codec):
    # Regression: a ~100-byte AV1/VVC keyframe in a 64x48 stream claimed 2048x2048 and was decoded in full
    # (12 MB of RGB through the pipe, far more inside ffmpeg) before the size check.
    seed = {"av1": "av1_interval4", "vvc": "vvc_interval5"}[codec]
    intra = get_codec(codec)
    import numpy as np

    image = intra.encode(np.full((2048, 2048, 3), 90, np.uint8), intra.qualities[-1])
    result = check_bomb(replace_keyframe_image(fuzz_seeds[seed], image))
    assert result["error"] == "FormatError" and "exceeds specified max pixel count" in result["message"]


def test_oversized_avif_keyframe_is_refused_from_its_header(bombs):
    name = next(n for n in bombs if n.startswith("avif"))
    result = check_bomb(bombs[name])
    assert "AVIF keyframe is 2048x2048" in result["message"]
    assert result["traced_peak_mb"] < 2048 * 2048 * 3 / 2**20 / 4  # the picture was never decoded


@pytest.mark.slow
@pytest.mark.parametrize("name", ["flowib", "multic", "hybrid"])
def test_mutated_sections_of_learned_methods_raise_only_genvc_errors(name, tiny_model_folder, tmp_path):
    """The clip sections (h, conditions, config) of the generative methods, mutated and decoded on a tiny model."""
    import numpy as np

    from genvc.errors import GenvcError
    from genvc.methods import ClipContext, get_method

    folder = tiny_model_folder(tmp_path / "model", ("flow",) if name != "flowib" else ())
    if folder is None:
        pytest.skip("genvc.models is not available")
    method = get_method(name, model=folder, steps=1)
    frames = np.random.default_rng(0).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    ctx = ClipContext(frames[0], frames[-1], 5, 25.0, {"level": 2})
    sections = method.encode(frames, ctx, None)
    mutator, outcomes = Mutator({"unused": b""}, seed=7), collections.Counter()
    for _ in range(60):
        mutated = dict(sections)
        tag = mutator.rng.choice(list(mutated))
        mutated[tag] = mutator.bytes_op(mutated[tag])
        try:
            method.decode(mutated, ctx)
            outcomes["ok"] += 1
        except GenvcError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0
