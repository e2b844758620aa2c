import json
import os
import signal
import subprocess
import sys
import time

import pytest

from genvc.cli import main
from genvc.io import write_video
from genvc.samples import sample_path


@pytest.fixture
def video_file(tmp_path, square_video):
    path = tmp_path / "in.mp4"
    write_video(path, square_video)
    return path


def test_encode_info_decode(tmp_path, video_file, capsys):
    gvc, mp4 = tmp_path / "v.gvc", tmp_path / "v.mp4"
    assert main(["encode", str(video_file), "-o", str(gvc), "--bpp", "0.2", "-q"]) == 0
    assert gvc.stat().st_size * 8 / (12 * 48 * 64) <= 0.2
    capsys.readouterr()  # encode's summary lines
    assert main(["info", str(gvc), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["frames"] == 12 and info["bytes"] == gvc.stat().st_size
    assert sum(info["bytes_per_unit_type"].values()) == info["bytes"]
    assert main(["decode", str(gvc), "-o", str(mp4), "-q"]) == 0
    assert mp4.stat().st_size > 0


@pytest.mark.parametrize("content", [b"", b"\x89GVC\x01", b"garbage" * 50])
def test_bad_gvc_exits_1_without_output(tmp_path, capsys, content):
    bad, out = tmp_path / "bad.gvc", tmp_path / "out.mp4"
    bad.write_bytes(content)
    assert main(["decode", str(bad), "-o", str(out), "-q"]) == 1
    assert "genvc: error:" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_bad_video_and_missing_files_exit_1(tmp_path, capsys):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"not a video")
    assert main(["encode", str(bad), "-o", str(tmp_path / "x.gvc"), "-q"]) == 1
    assert main(["encode", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "y.gvc"), "-q"]) == 1
    assert main(["info", str(tmp_path / "missing.gvc")]) == 1
    assert not (tmp_path / "x.gvc").exists() and not (tmp_path / "y.gvc").exists()
    assert capsys.readouterr().err.count("genvc: error:") == 3


def test_unwritable_output_exits_1(tmp_path, video_file):
    assert main(["encode", str(video_file), "-o", str(tmp_path / "no" / "dir.gvc"), "-q"]) == 1


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("encode", "decode", "info", "demo"):
        assert command in out


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_encode_leaves_no_output(tmp_path, sig, code):
    """Ctrl-C and SIGTERM (kill, timeout, a CI cancelling a job) clean up alike: no output, no hidden .part."""
    out = tmp_path / "bikes.gvc"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "genvc", "encode", str(sample_path("bikes")), "-o", str(out),
                             "--frames", "200"], stderr=subprocess.PIPE, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as at a terminal
    seen = b""
    while b"encode:" not in seen and proc.poll() is None:  # interrupt once coding is under way
        seen += proc.stderr.read(1)
    time.sleep(0.5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err.decode()[-500:]
    assert not out.exists() and list(tmp_path.iterdir()) == []
