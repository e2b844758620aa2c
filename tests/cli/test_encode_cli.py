"""What a new user hits with `genvc encode` (issue 16): short videos, pipes, overwrite, seek, threads, stats."""

import io

import numpy as np
import pytest
import torch

from genvc.bitstream import read_stream
from genvc.cli import main
from genvc.io import read_video, write_video


def _frames(path) -> int:
    return read_stream(path.read_bytes()).header.num_frames


@pytest.mark.parametrize("num_frames", [1, 2])
def test_one_and_two_frame_videos_encode_with_bpp(tmp_path, make_square_video, num_frames, capsys):
    # item 1: every keyframe coded as an image leaves no clip unit (the sketch once got an empty list and crashed)
    source, out = tmp_path / "short.mp4", tmp_path / "short.gvc"
    write_video(source, make_square_video(num_frames))
    assert main(["encode", str(source), "-o", str(out), "--bpp", "0.005", "-q"]) == 0, capsys.readouterr().err
    assert _frames(out) == num_frames


def test_frames_1_with_bpp_encodes(tmp_path, clip_file):
    out = tmp_path / "one.gvc"
    assert main(["encode", str(clip_file), "-o", str(out), "--bpp", "0.005", "--frames", "1", "-q"]) == 0
    assert _frames(out) == 1


def test_unreachable_bpp_warns_with_the_floor(tmp_path, clip_file, capsys):
    # item 5
    out = tmp_path / "low.gvc"
    assert main(["encode", str(clip_file), "-o", str(out), "--bpp", "0.0001", "-q", "--no-shot-detection"]) == 0
    err = capsys.readouterr().err
    floor = out.stat().st_size * 8 / (12 * 48 * 64)
    assert "genvc: warning: --bpp 0.0001 cannot be reached" in err and f"{floor:.5f} bpp" in err, err


def test_reachable_bpp_does_not_warn(tmp_path, clip_file, capsys):
    assert main(["encode", str(clip_file), "-o", str(tmp_path / "ok.gvc"), "--bpp", "0.3", "-q",
                 "--no-shot-detection"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_existing_output_needs_y(tmp_path, clip_file, capsys, monkeypatch):
    # item 11: ffmpeg's -y/-n; without either and without a terminal, an existing output is an error
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a tty
    out = tmp_path / "out.gvc"
    out.write_bytes(b"keep me")
    args = ["encode", str(clip_file), "-o", str(out), "-q", "--no-shot-detection"]
    assert main(args) == 1
    assert "exists; pass -y to overwrite" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    assert main(args + ["-n"]) == 1 and out.read_bytes() == b"keep me"
    assert main(args + ["-y"]) == 0 and _frames(out) == 12


def test_existing_output_prompt_on_a_terminal(tmp_path, clip_file, capsys, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = tmp_path / "out.gvc"
    out.write_bytes(b"keep me")
    args = ["encode", str(clip_file), "-o", str(out), "-q", "--no-shot-detection"]
    monkeypatch.setattr("sys.stdin", Tty("n\n"))
    assert main(args) == 1 and out.read_bytes() == b"keep me"
    assert "Overwrite? [y/N]" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", Tty("y\n"))
    assert main(args) == 0 and _frames(out) == 12


def test_start_seeks(tmp_path, clip_file):
    # item 11: --start N skips N frames, --frames counts from there
    video = read_video(clip_file)
    assert np.array_equal(read_video(clip_file, max_frames=3, start=6).frames, video.frames[6:9])
    out = tmp_path / "seek.gvc"
    assert main(["encode", str(clip_file), "-o", str(out), "--start", "6", "--frames", "3", "-q",
                 "--no-shot-detection"]) == 0
    assert _frames(out) == 3
    assert main(["encode", str(clip_file), "-o", str(tmp_path / "past.gvc"), "--start", "50", "-q"]) == 1
    assert not (tmp_path / "past.gvc").exists()


def test_threads_sets_torch_opencv_and_ffmpeg(tmp_path, clip_file, monkeypatch):
    import cv2

    from genvc import ffmpeg

    before, cv_before = torch.get_num_threads(), cv2.getNumThreads()
    monkeypatch.setattr(ffmpeg, "ENCODER_THREADS", None)
    seen = []
    real = ffmpeg.subprocess.run
    monkeypatch.setattr(ffmpeg.subprocess, "run", lambda cmd, **kw: seen.append(cmd) or real(cmd, **kw))
    try:
        assert main(["encode", str(clip_file), "-o", str(tmp_path / "t.gvc"), "--threads", "1", "-q",
                     "--no-shot-detection"]) == 0
        assert torch.get_num_threads() == 1 and cv2.getNumThreads() == 1
        assert seen and all(cmd[-3:-1] == ["-threads", "1"] for cmd in seen if "libvvenc" in cmd)
    finally:
        torch.set_num_threads(before)
        cv2.setNumThreads(cv_before)
    assert main(["encode", str(clip_file), "-o", str(tmp_path / "u.gvc"), "--threads", "0", "-q"]) == 1


def test_stats_line_and_quality(tmp_path, clip_file, capsys):
    # item 11: bytes, scale and QP per clip always; PSNR when asked
    out = tmp_path / "s.gvc"
    assert main(["encode", str(clip_file), "-o", str(out), "--bpp", "0.3", "-q", "--no-shot-detection",
                 "--stats"]) == 0
    text = capsys.readouterr().out
    clips = next(line for line in text.splitlines() if line.strip().startswith("clips:"))
    from genvc.bitstream.format import clip_unit_bytes
    from genvc.methods.sketch import describe_config

    unit = read_stream(out.read_bytes()).clips[0]
    config = describe_config(unit.sections[6])
    assert f"[0-11] {clip_unit_bytes(0, unit.sections)} B sketch 1/{config['scale']:g} QP {config['qp']}" in clips
    # the quality line is streamed frame by frame; it must say what the whole decoded video says
    from genvc.codec import decode
    from genvc.metrics import psnr_rgb, psnr_yuv

    original = read_video(clip_file, max_frames=12).frames
    decoded = decode(out.read_bytes()).frames
    assert f"PSNR-RGB {psnr_rgb(original, decoded):.2f} dB" in text
    assert f"PSNR-Y {psnr_yuv(original, decoded)['y']:.2f} dB" in text


def test_pipes_encode_and_decode(tmp_path, make_square_video, genvc_proc):
    # item 3: - is stdin/stdout; nothing but the data may go to stdout
    y4m = tmp_path / "in.y4m"
    write_video(y4m, make_square_video(12))
    enc = genvc_proc(["encode", "-", "-o", "-", "--bpp", "0.3", "-q", "--no-shot-detection"], y4m.read_bytes())
    assert enc.returncode == 0, enc.stderr.decode()
    assert read_stream(enc.stdout).header.num_frames == 12  # stdout is exactly the .gvc
    assert b"bytes" in enc.stderr  # the summary went to stderr
    dec = genvc_proc(["decode", "-", "-o", "-", "-q"], enc.stdout)
    assert dec.returncode == 0, dec.stderr.decode()
    assert dec.stdout.startswith(b"YUV4MPEG2 ")
    assert read_video(io.BytesIO(dec.stdout)).frames.shape == (12, 48, 64, 3)
    assert not (tmp_path / "-").exists()


def test_mp4_on_stdin_and_gvc_on_stdout_in_process(tmp_path, clip_file, monkeypatch, capsysbinary):
    class Stdin:
        buffer = io.BytesIO(clip_file.read_bytes())

        def isatty(self):
            return False

    monkeypatch.setattr("sys.stdin", Stdin())
    monkeypatch.chdir(tmp_path)
    assert main(["encode", "-", "-o", "-", "-q", "--no-shot-detection"]) == 0
    out = capsysbinary.readouterr()
    assert read_stream(out.out).header.num_frames == 12 and not (tmp_path / "-").exists()


def test_generator_off_never_runs_the_generator(tmp_path, clip_file, monkeypatch):
    # --generator off: no clip asks the decoder for the generator, and the encoder does not even try it
    from genvc.methods.sketch import SketchMethod, describe_config

    def refuse(*args, **kwargs):
        raise AssertionError("the generator ran")

    monkeypatch.setattr(SketchMethod, "restore", refuse)
    out = tmp_path / "off.gvc"
    assert main(["encode", str(clip_file), "-o", str(out), "--bpp", "0.05", "-q", "--generator", "off"]) == 0
    clips = read_stream(out.read_bytes()).clips
    assert clips and not any(describe_config(unit.sections[6])["generator"] for unit in clips)
    assert main(["encode", str(clip_file), "-o", str(out), "-y", "-q", "--generator", "off"]) == 0  # no --bpp


def test_frames_past_the_end_gives_a_note(tmp_path, clip_file, capsys):
    # issue 28: --frames 17 on a 12-frame video codes the 12, and says so
    out = tmp_path / "all.gvc"
    assert main(["encode", str(clip_file), "-o", str(out), "--frames", "17", "-q", "--no-shot-detection"]) == 0
    assert _frames(out) == 12
    assert "--frames 17: the input has 12 frames from frame 0; all 12 were coded" in capsys.readouterr().err
    assert main(["encode", str(clip_file), "-o", str(tmp_path / "some.gvc"), "--frames", "5", "-q",
                 "--no-shot-detection"]) == 0
    assert "--frames" not in capsys.readouterr().err
