"""The bad-input matrix: each case builds its input files, runs the `genvc` CLI, and records the exit code, the
message and whether any output (or a partial `.part` file) was left behind.

    PYTHONPATH=src python tools/bad_inputs.py -o docs/bad-inputs.md

writes the table of docs/bad-inputs.md from real runs. `tests/reliability/test_bad_inputs.py` runs the same
cases (except those already covered by tests/foundation) and asserts the expectations.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import numpy as np

from genvc.cli import main as genvc_main
from genvc.codec import EncodeConfig, encode
from genvc.io import Video, write_video
from genvc.methods import base as methods_base
from genvc.methods.base import ClipContext, ClipMethod
from genvc.methods.interp import interpolate

SRC = Path(__file__).resolve().parents[1] / "src"


# ---------------------------------------------------------------- inputs

def moving_square(num_frames: int = 6, height: int = 48, width: int = 64) -> Video:
    rng = np.random.default_rng(0)
    frames = np.repeat(rng.integers(60, 120, (1, height, width, 3), dtype=np.uint8), num_frames, axis=0)
    for t in range(num_frames):
        frames[t, height // 4:height // 4 + max(2, height // 3), 2 * t:2 * t + max(2, width // 4)] = (230, 200, 40)
    return Video(frames, 25)


def write_pyav(path: Path, frames: np.ndarray, codec: str, pix_fmt: str, pts: list[int] | None = None,
               time_base: Fraction = Fraction(1, 25)) -> Path:
    """Write frames with an explicit codec / pixel format / timestamps (for 10-bit, 4:4:4 and VFR sources)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], pix_fmt
        stream.time_base = time_base
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format=pix_fmt)
            frame.pts, frame.time_base = (pts[i] if pts else i), time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def empty_video(path: Path) -> Path:
    """A valid Matroska file with a video stream that has no frames (only an audio stream has packets)."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("ffv1", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        _mux_silence(container)
    return path


def _mux_silence(container) -> None:
    stream = container.add_stream("pcm_s16le", rate=8000)
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
    frame.sample_rate = 8000
    for packet in [*stream.encode(frame), *stream.encode()]:
        container.mux(packet)


def audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        _mux_silence(container)
    return path


def mp4(path: Path, video: Video | None = None) -> Path:
    write_video(path, video or moving_square())
    return path


def gvc(path: Path, video: Video | None = None, **config) -> Path:
    config.setdefault("shot_detection", False)
    path.write_bytes(encode(video or moving_square(), EncodeConfig(**config)))
    return path


# ---------------------------------------------------------------- a model-backed method for the hash check

class FakeModelMethod(ClipMethod):
    """Stands in for a learned method: its weights hash is derived from the `--model` argument."""

    name, method_id, model_id = "fake-model", 250, "fake-model"
    uses_bits, uses_model = False, True

    def __init__(self, model: str | None = None, **_unused) -> None:
        self.model = model or "embedded"

    def weights_hash(self) -> bytes:
        return hashlib.sha256(self.model.encode()).digest()[:8]

    def encode(self, frames, ctx: ClipContext, budget_bytes):
        return {}

    def decode(self, sections, ctx: ClipContext):
        return interpolate(ctx.first, ctx.last, ctx.num_frames)


@contextlib.contextmanager
def fake_model_registered():
    methods_base.METHODS.add("fake-model", f"{__name__}:FakeModelMethod", id=FakeModelMethod.method_id)
    try:
        yield
    finally:
        methods_base.METHODS.remove("fake-model")


def generator_without_modalities(d: Path) -> Path:
    """A small generator folder trained (here: built) without Multi-C modalities."""
    from genvc.models.pixelflow import PixelFlowConfig, PixelFlowModel

    folder = d / "no-modalities"
    PixelFlowModel(PixelFlowConfig(width=8, blocks=1, compressor_width=8, h_channels=2)).save_pretrained(folder)
    return folder


def other_model_stream(d: Path) -> list[str]:
    """Run inside `fake_model_registered()`: coded with weights A, decoded with weights B."""
    path = gvc(d / "in.gvc", method="fake-model", model="weights-A")
    return ["decode", str(path), "-o", str(d / "out.mp4"), "--model", "weights-B"]


# ---------------------------------------------------------------- the matrix

@dataclass
class Case:
    name: str
    build: Callable[[Path], list[str]]  # makes the inputs under a fresh directory, returns the CLI arguments
    exit_code: int = 1
    message: str = ""  # a substring the error message must contain
    frames: int | None = None  # for cases that work: frames the output must have
    covered_by: str | None = None  # a tests/foundation test that already checks this case
    interrupt_after: str | None = None  # send SIGINT once this text appears on stderr (runs in a subprocess)
    context: Callable = contextlib.nullcontext
    extra: dict = field(default_factory=dict)


def _encode(d: Path, source: Path, *extra: str) -> list[str]:
    return ["encode", str(source), "-o", str(d / "out.gvc"), "-q", "--no-shot-detection", *extra]


def _decode(d: Path, source: Path, output: Path | None = None) -> list[str]:
    return ["decode", str(source), "-o", str(output or d / "out.mp4"), "-q"]


def _file_as_directory(d: Path, name: str = "out.gvc") -> Path:
    (d / "afile").write_bytes(b"x")
    return d / "afile" / name


def _truncated_mp4(d: Path) -> Path:
    data = mp4(d / "good.mp4").read_bytes()
    (d / "good.mp4").unlink()
    (d / "in.mp4").write_bytes(data[: len(data) // 3])
    return d / "in.mp4"


def _scrambled_mp4(d: Path) -> Path:
    data = bytearray(mp4(d / "in.mp4").read_bytes())
    data[100:len(data) - 100] = np.random.default_rng(0).integers(0, 256, len(data) - 200, np.uint8).tobytes()
    (d / "in.mp4").write_bytes(bytes(data))
    return d / "in.mp4"


def _long_video(num_frames: int) -> Video:
    t = np.arange(num_frames)[:, None, None, None]
    y, x = np.mgrid[0:360, 0:640]
    frames = ((x[None, ..., None] + 3 * t + y[None, ..., None] // 2) % 256).astype(np.uint8).repeat(3, axis=3)
    return Video(frames, 25)


CASES = [
    # -- input files
    Case("missing input file", lambda d: _encode(d, d / "missing.mp4"), message="no such file",
         covered_by="test_cli.py::test_bad_video_and_missing_files_exit_1"),
    Case("input is a directory", lambda d: _encode(d, d), message="is a directory"),
    Case("not a video (text file)", lambda d: _encode(d, _text(d / "in.mp4")), message="cannot read",
         covered_by="test_cli.py::test_bad_video_and_missing_files_exit_1"),
    Case("truncated mp4 (first third)", lambda d: _encode(d, _truncated_mp4(d))),
    Case("mp4 with scrambled contents (all but 100 bytes at each end)", lambda d: _encode(d, _scrambled_mp4(d))),
    Case("container with a video stream of 0 frames", lambda d: _encode(d, empty_video(d / "in.mkv")),
         message="no decodable video frames"),
    Case("y4m header with 0 frames", lambda d: _encode(d, _text(d / "in.y4m", Y4M_HEADER)),
         message="no decodable video frames"),
    Case("audio only, no video stream", lambda d: _encode(d, audio_only(d / "in.wav")), message="no video stream"),
    Case("a .gvc given to encode", lambda d: _encode(d, gvc(d / "in.gvc"))),
    # -- sizes and formats
    Case("1 frame", lambda d: _encode(d, mp4(d / "in.mp4", Video(moving_square().frames[:1], 25))),
         exit_code=0, frames=1),
    Case("odd tiny size 17x9", lambda d: _encode(d, write_pyav(d / "in.mkv", moving_square(5, 9, 17).frames,
                                                               "ffv1", "yuv444p")), exit_code=0, frames=5),
    Case("4x4 frames", lambda d: _encode(d, write_pyav(d / "in.mkv", moving_square(3, 4, 4).frames, "ffv1",
                                                       "yuv444p")), message="outside what genvc codes"),
    Case("10-bit 4:2:0 source", lambda d: _encode(d, write_pyav(d / "in.mkv", moving_square().frames, "ffv1",
                                                                "yuv420p10le")), exit_code=0, frames=6),
    Case("8-bit 4:4:4 H.264 source", lambda d: _encode(d, write_pyav(d / "in.mp4", moving_square().frames,
                                                                     "libx264", "yuv444p")), exit_code=0, frames=6),
    Case("10-bit 4:4:4 source", lambda d: _encode(d, write_pyav(d / "in.mkv", moving_square().frames, "ffv1",
                                                                "yuv444p10le")), exit_code=0, frames=6),
    Case("variable frame rate (pts 0,1,2,5,6,20 at 1/25 s)", lambda d: _encode(
        d, write_pyav(d / "in.mkv", moving_square().frames, "ffv1", "yuv420p", pts=[0, 1, 2, 5, 6, 20])),
        exit_code=0, frames=6),
    Case("--frames 0", lambda d: _encode(d, mp4(d / "in.mp4"), "--frames", "0"), message="at least 1"),
    Case("1 frame with --bpp", lambda d: _encode(d, mp4(d / "in.mp4", Video(moving_square().frames[:1], 25)),
                                                 "--bpp", "0.005"), exit_code=0, frames=1),
    Case("2 frames with --bpp", lambda d: _encode(d, mp4(d / "in.mp4", Video(moving_square().frames[:2], 25)),
                                                  "--bpp", "0.005"), exit_code=0, frames=2),
    Case("--frames 1 with --bpp", lambda d: _encode(d, mp4(d / "in.mp4"), "--frames", "1", "--bpp", "0.005"),
         exit_code=0, frames=1),
    Case("--bpp below the video's floor", lambda d: _encode(d, mp4(d / "in.mp4"), "--bpp", "0.0001"),
         exit_code=0, frames=6, message="cannot be reached"),
    Case("--start past the last frame", lambda d: _encode(d, mp4(d / "in.mp4"), "--start", "50"),
         message="no decodable video frames from frame 50 on"),
    Case("--threads 0", lambda d: _encode(d, mp4(d / "in.mp4"), "--threads", "0"), message="--threads"),
    Case("multic on a generator trained without modalities",
         lambda d: _encode(d, mp4(d / "in.mp4"), "--method", "multic", "--model",
                           str(generator_without_modalities(d))), message="modalities"),
    Case("learned method, --model is not a folder", lambda d: _encode(d, mp4(d / "in.mp4"), "--method", "flowib",
                                                                     "--model", str(d / "nowhere")),
         message="no such model folder"),
    # -- output paths
    Case("output exists (no -y, not a terminal)", lambda d: ["encode", str(mp4(d / "in.mp4")), "-o",
                                                                   str(_text(d / "old.gvc", b"old")), "-q"],
         message="pass -y", covered_by="../cli/test_encode_cli.py::test_existing_output_needs_y"),
    Case("output under a missing directory", lambda d: _encode(d, mp4(d / "in.mp4"))[:3]
         + [str(d / "nodir" / "out.gvc"), "-q"], message="does not exist",
         covered_by="test_cli.py::test_unwritable_output_exits_1"),
    Case("output under a file (file as directory)", lambda d: _encode(d, mp4(d / "in.mp4"))[:3]
         + [str(_file_as_directory(d)), "-q"], message="not a directory"),
    Case("output is an existing directory", lambda d: _encode(d, mp4(d / "in.mp4"))[:3]
         + [str(_mkdir(d / "outdir")), "-q"], message="is a directory"),
    Case("decode output under a file", lambda d: _decode(d, gvc(d / "in.gvc"), _file_as_directory(d, "out.mp4")),
         message="not a directory"),
    Case("decode output with an unknown extension", lambda d: _decode(d, gvc(d / "in.gvc"), d / "out.xyz"),
         message="out.xyz"),
    Case("decode an odd size (63x45) to mp4", lambda d: _decode(d, gvc(d / "in.gvc", _odd_video(), method="interp")),
         exit_code=0, frames=3, message="odd side"),
    Case("bench with an unknown codec", lambda d: ["bench", "bikes", "--codecs", "x266", "-o", str(d / "bench" / "out")],
         message="unknown codec 'x266'"),
    Case("bench: a video swallowed by --codecs", lambda d: ["bench", "--codecs", "x265", "bikes", "-o",
                                                           str(d / "bench" / "out")], message="after a --"),
    # -- .gvc inputs
    Case("decode a missing .gvc", lambda d: _decode(d, d / "missing.gvc"), message="no such file"),
    Case("decode an mp4 as .gvc", lambda d: _decode(d, mp4(d / "in.mp4")), message="not a .gvc stream"),
    Case("decode a truncated .gvc", lambda d: _decode(d, _truncate(gvc(d / "in.gvc"))), message="truncated"),
    Case("decode a .gvc with a flipped bit", lambda d: _decode(d, _flip(gvc(d / "in.gvc"))), message="CRC"),
    Case("decode an empty file", lambda d: _decode(d, _text(d / "in.gvc", b"")), message="magic",
         covered_by="test_cli.py::test_bad_gvc_exits_1_without_output"),
    Case(".gvc made by another model", other_model_stream, message="was coded with model", context=fake_model_registered),
    Case("info on a non-.gvc file", lambda d: ["info", str(_text(d / "x.gvc"))], message="not a .gvc stream"),
    # -- Ctrl-C
    Case("Ctrl-C during encode", lambda d: ["encode", str(_long_mp4(d)), "-o", str(d / "out.gvc"),
                                            "--no-shot-detection"], exit_code=130, interrupt_after="encode:",
         covered_by="test_cli.py::test_an_interrupted_encode_leaves_no_output"),
    Case("Ctrl-C during decode", lambda d: ["decode", str(gvc(d / "in.gvc", _long_video(150), interval=30)),
                                            "-o", str(d / "out.mp4")], exit_code=130, interrupt_after="decode:"),
]


def _odd_video() -> Video:
    return Video(np.random.default_rng(0).integers(0, 256, (3, 45, 63, 3), dtype=np.uint8), 25)


Y4M_HEADER = b"YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n"


def _text(path: Path, content: bytes = b"this is not a video\n" * 20) -> Path:
    path.write_bytes(content)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _truncate(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[:-40])
    return path


def _flip(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    return path


def _long_mp4(d: Path) -> Path:
    write_video(d / "in.mp4", _long_video(300))
    return d / "in.mp4"


# ---------------------------------------------------------------- running

@dataclass
class Result:
    argv: list[str]
    exit_code: int
    stderr: str
    stdout: str
    left_behind: list[str]  # files in the case directory that are neither inputs nor the expected output
    output_exists: bool


def run_case(case: Case, directory: Path) -> Result:
    with case.context():
        argv = case.build(directory)
        inputs = set(os.listdir(directory))
        out_index = argv.index("-o") + 1 if "-o" in argv else None
        output = Path(argv[out_index]) if out_index else None
        if case.interrupt_after:
            code, out, err = _run_interrupted(argv, case.interrupt_after)
        else:
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = genvc_main(argv)
            out, err = stdout.getvalue(), stderr.getvalue()
    produced = set(os.listdir(directory)) - inputs
    expected = {output.name} if output is not None and output.parent == directory else set()
    return Result(argv, code, err, out, sorted(produced - expected),
                  output is not None and output.is_file())


def terminal_sigint() -> None:
    """In the child, before exec: SIGINT as at a terminal. A run started in the background by a non-interactive
    shell (`cmd &`) has SIGINT ignored, the child would inherit that, and Python keeps an ignored SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run_interrupted(argv: list[str], marker: str) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "genvc", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, preexec_fn=terminal_sigint)
    seen = b""
    while marker.encode() not in seen and proc.poll() is None:
        seen += proc.stderr.read(1)
    time.sleep(0.5)  # well inside the work, not at its first line
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out.decode(), (seen + err).decode(errors="replace")


def error_line(result: Result) -> str:
    """The `genvc: ...` message (progress bars may share its line on stderr)."""
    found = re.findall(r"genvc: [^\r\n]*", result.stderr)
    return found[-1] if found else ""


def relative(text: str, directory: Path) -> str:
    return text.replace(str(directory) + os.sep, "").replace(str(directory), ".")


def display_argv(argv: list[str], directory: Path) -> str:
    return " ".join(["genvc"] + [relative(a, directory) for a in argv if a != "-q"])


def write_markdown(rows: list[tuple[Case, Result, Path]], path: Path) -> None:
    lines = [
        "# Bad inputs: what genvc says",
        "",
        "Generated by `PYTHONPATH=src python tools/bad_inputs.py -o docs/bad-inputs.md` from real runs of the",
        "`genvc` CLI (`tests/reliability/test_bad_inputs.py` asserts the same cases). Every refusal exits 1 with",
        "one `genvc: error: ...` line and leaves no output file and no partial `.part` file behind; Ctrl-C exits",
        "130 and leaves nothing. A case that works shows its warning or note, if any, else its first output line.",
        "Paths are relative to each case's scratch directory.",
        "",
        "| input | command | exit | message / result | output left |",
        "|---|---|---|---|---|",
    ]
    for case, result, directory in rows:
        command = display_argv(result.argv, directory)
        text = relative(error_line(result) or (result.stdout.strip().splitlines() or [""])[0], directory)
        text = re.sub(r", [\d.]+ s( \([\d.]+ frames/s\))?$", "", text)  # timings vary from run to run
        left = "output written" if result.output_exists and result.exit_code == 0 else (
            ", ".join(result.left_behind) or "none")
        text = text.replace("|", "\\|")
        lines.append(f"| {case.name} | `{command}` | {result.exit_code} | {text} | {left} |")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the bad-input matrix and write its markdown table.")
    parser.add_argument("-o", "--output", default="docs/bad-inputs.md")
    args = parser.parse_args(argv)
    rows = []
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            result = run_case(case, directory)
            rows.append((case, result, directory))
            print(f"{case.name}: exit {result.exit_code}  {error_line(result) or result.stdout.strip()[:100]}")
    write_markdown(rows, Path(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
