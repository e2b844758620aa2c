"""The bad-input matrix of tools/bad_inputs.py (docs/bad-inputs.md), minus the cases tests/foundation covers.

Each refusal must exit 1 with a `genvc: error:` message naming the problem and leave no output or `.part` file;
each case that must work writes a stream with all its frames; Ctrl-C exits 130 and leaves nothing.
"""

from pathlib import Path

import pytest

from bad_inputs import CASES, error_line, run_case
from genvc.bitstream import read_stream
from genvc.io import read_video

NEW_CASES = [c for c in CASES if c.covered_by is None]


@pytest.mark.parametrize("case", NEW_CASES, ids=[c.name for c in NEW_CASES])
def test_bad_input(case, tmp_path):
    result = run_case(case, tmp_path)
    assert result.exit_code == case.exit_code, (result.stderr, result.stdout)
    assert result.left_behind == [], "partial or stray files left behind"
    if case.exit_code == 0:
        assert result.output_exists
        assert case.message in result.stderr, result.stderr  # a warning or note, where the case expects one
        output = result.argv[result.argv.index("-o") + 1]
        if output.endswith(".gvc"):
            assert read_stream(open(output, "rb").read()).header.num_frames == case.frames
        else:
            assert read_video(output).num_frames == case.frames
        return
    assert not result.output_exists
    if case.exit_code == 130:
        assert error_line(result) == "genvc: interrupted; no output written"
    else:
        assert result.stderr.startswith("genvc: error:") and result.stderr.count("\n") == 1, result.stderr
        assert case.message in result.stderr


def test_right_model_decodes_what_the_wrong_one_refuses(tmp_path, capsys):
    from bad_inputs import fake_model_registered, other_model_stream
    from genvc.cli import main

    with fake_model_registered():
        argv = other_model_stream(tmp_path)
        assert main(argv[:-1] + ["weights-A", "-q"]) == 0
    assert (tmp_path / "out.mp4").is_file()


def test_cases_left_out_here_are_in_tests_foundation():
    foundation = Path(__file__).resolve().parents[1] / "foundation"
    for case in CASES:
        if case.covered_by:
            file_name, test_name = case.covered_by.split("::")
            assert f"def {test_name}(" in (foundation / file_name).read_text(), case.covered_by
