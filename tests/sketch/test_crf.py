"""--crf N, the sketch's constant-quality mode (issue 28): one rule maps N to every clip's scale and QP, no byte
target; the size falls as N rises."""

import numpy as np
import pytest

from genvc.codec import EncodeConfig, encode
from genvc.errors import InputError
from genvc.inter.scale_search import crf_setting
from genvc.ladders import QP_RANGE, SKETCH_SCALES
from genvc.presets import TARGET_QP


def test_the_rule_codes_full_size_up_to_the_target_qp_then_goes_smaller():
    settings = [crf_setting(n) for n in range(0, 80)]
    assert all(scale in SKETCH_SCALES and qp in QP_RANGE for scale, qp in settings)
    assert all(settings[n] == (1, n) for n in range(0, int(TARGET_QP) + 1))
    scales = [scale for scale, _ in settings]
    assert scales == sorted(scales) and scales[-1] > 2  # coarser as N rises
    # N is the QP at full size: each step down in size takes its share of N off the QP, as the byte model says
    effective = [qp + 5.4 * np.log2(scale) for scale, qp in settings]
    assert all(abs(e - n) <= 0.5 for n, e in enumerate(effective) if settings[n][1] < QP_RANGE[-1])


def test_the_size_falls_as_crf_rises(make_square_video, tiny_generator):
    from genvc.bitstream import read_stream
    from genvc.bitstream.sections import Section
    from genvc.methods.sketch import describe_config

    video = make_square_video(num_frames=10, height=96, width=128)
    sizes = []
    for n in (24, 36, 48, 60):
        data = encode(video, EncodeConfig(method="sketch", model=str(tiny_generator), shot_detection=False,
                                          method_options={"crf": n}))
        config = describe_config(read_stream(data).clips[0].sections[Section.CONFIG])
        assert (config["scale"], config["qp"]) == crf_setting(n)
        sizes.append(len(data))
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 2 * sizes[-1]


@pytest.mark.parametrize("config", [dict(method="interp", method_options={"crf": 40}),
                                    dict(bpp=0.01, method_options={"crf": 40}),
                                    dict(method_options={"crf": 120})])
def test_crf_outside_the_sketch_or_with_a_target_is_one_input_error(config):
    with pytest.raises(InputError, match="crf"):
        EncodeConfig(**config).validate()


def test_the_cli_refuses_crf_with_bpp(tmp_path, capsys):
    from genvc.cli import main

    with pytest.raises(SystemExit) as exit:
        main(["encode", "in.mp4", "-o", str(tmp_path / "o.gvc"), "--crf", "40", "--bpp", "0.01"])
    assert exit.value.code == 2 and "not allowed with" in capsys.readouterr().err
