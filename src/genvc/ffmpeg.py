"""The one way genvc runs ffmpeg: the static build imageio-ffmpeg ships (libaom/dav1d, vvenc, x264/x265/svtav1,
libvmaf), raw RGB in, RGB out.

One error rule: a failed ffmpeg that was reading a genvc stream's payload (`reads_stream=True`: decoding
keyframes and sketches) raises FormatError, because the stream is what is wrong; any other failure (encoding the
user's frames, the bench's baselines, VMAF) raises InputError. A run that times out raises GenvcError.

`run` is for the codec (output on stdout, empty output is a failure); `run_measured` for the bench, which also
wants the wall time and the peak resident memory of the child. Peak memory is the child's VmHWM from /proc,
polled until it exits: rusage's ru_maxrss of a child is useless here, because Linux folds the forking Python
process's RSS into it at exec time. Processes that live less than the polling interval may report less than
their true peak; None where /proc is absent."""

from __future__ import annotations

import functools
import re
import subprocess
import threading
import time
from dataclasses import dataclass

import numpy as np

from genvc.errors import FormatError, GenvcError, InputError

# Colour conversion both ways with the same swscale settings, so encoder and decoder agree on colours.
SWS_FLAGS = ["-sws_flags", "bicubic+accurate_rnd+full_chroma_int+bitexact"]
#: threads of the encoders ffmpeg runs (`genvc encode --threads`); None: each encoder's own choice. Decoding stays
#: single-threaded (the leading `-threads 1`), as docs/determinism.md assumes.
ENCODER_THREADS: int | None = None
#: the codec's runs (one picture or one short clip) take seconds; a hung one is stopped after this
TIMEOUT_S = 300


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _failed(what: str, returncode: int, stderr: bytes, reads_stream: bool) -> GenvcError:
    detail = stderr.decode(errors="replace").strip()[-300:] or f"exit status {returncode}"
    return (FormatError if reads_stream else InputError)(f"ffmpeg failed during {what}: {detail}")


def run(args: list[str], stdin: bytes, what: str, reads_stream: bool = False) -> bytes:
    """stdout of `ffmpeg args` fed `stdin`; single-threaded decoding, encoders at ENCODER_THREADS."""
    if ENCODER_THREADS is not None and "-threads" not in args:
        args = [*args[:-1], "-threads", str(ENCODER_THREADS), args[-1]]  # an output option: before the output
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-threads", "1", *args]
    try:
        result = subprocess.run(cmd, input=stdin, capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise GenvcError(f"ffmpeg timed out during {what}") from None
    if result.returncode != 0 or not result.stdout:
        raise _failed(what, result.returncode, result.stderr, reads_stream)
    return result.stdout


def raw_rgb_input(width: int, height: int, fps: float | None = None) -> list[str]:
    """ffmpeg input arguments for raw RGB frames on stdin, converted with our swscale settings."""
    rate = ["-r", f"{fps:.6f}"] if fps else []
    return ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", *rate, "-i", "pipe:0", *SWS_FLAGS]


def decode_to_rgb(fmt: str, data: bytes, width: int, height: int, what: str, num_frames: int = 1) -> np.ndarray:
    """Decode exactly `num_frames` pictures of width×height from stream payload `data` to uint8
    num_frames×H×W×3; FormatError otherwise."""
    # -max_pixels: a few bytes of sequence header can claim a 16K picture; refuse it before the decoder
    # allocates it (and before gigabytes of raw RGB come back through the pipe). The margin covers decoders
    # that allocate CTU-aligned buffers (VVC: 176x144 asks for 192x144; CTUs are at most 128).
    max_pixels = (width + 128) * (height + 128)
    out = run(["-max_pixels", str(max_pixels), "-f", fmt, "-i", "pipe:0", *SWS_FLAGS, "-frames:v", str(num_frames),
               "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], data, what, reads_stream=True)
    if len(out) != num_frames * width * height * 3:
        expected = f"a {width}x{height} image" if num_frames == 1 else f"{num_frames} frames of {width}x{height}"
        raise FormatError(f"{what}: decoded {len(out)} bytes, expected {expected}")
    return np.frombuffer(out, np.uint8).reshape(num_frames, height, width, 3).copy()


@dataclass
class ProcessResult:
    stdout: bytes
    stderr: bytes
    seconds: float
    peak_rss_mb: float | None


def run_measured(args: list[str], stdin: bytes | None = None, what: str = "a bench run",
                 reads_stream: bool = False) -> ProcessResult:
    """Run `ffmpeg -y args` with no time limit (slow presets on long clips), measuring time and peak memory."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"] + args
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    watcher = _PeakWatcher(proc.pid)
    watcher.start()
    stdout, stderr = _communicate(proc, stdin)
    proc.wait()
    watcher.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise _failed(f"{what} (ffmpeg {' '.join(args)[:300]})", proc.returncode, stderr, reads_stream)
    return ProcessResult(stdout, stderr, seconds, watcher.peak_mb)


class _PeakWatcher(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.path, self.interval, self.peak_mb = f"/proc/{pid}/status", interval, None

    def run(self) -> None:
        while True:
            try:
                with open(self.path) as f:
                    status = f.read()
            except OSError:
                return
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if match is None:  # a zombie has no memory map left: the process has exited
                return
            self.peak_mb = max(self.peak_mb or 0.0, int(match.group(1)) / 1024.0)
            time.sleep(self.interval)


def _communicate(proc: subprocess.Popen, stdin: bytes | None) -> tuple[bytes, bytes]:
    chunks: dict[str, bytes] = {}

    def drain(name, pipe):
        chunks[name] = pipe.read()
        pipe.close()

    threads = [threading.Thread(target=drain, args=(n, p)) for n, p in (("out", proc.stdout), ("err", proc.stderr))]
    for t in threads:
        t.start()
    if proc.stdin is not None:
        try:
            proc.stdin.write(stdin)
        except BrokenPipeError:
            pass
        finally:
            proc.stdin.close()
    for t in threads:
        t.join()
    return chunks["out"], chunks["err"]


@functools.lru_cache(maxsize=1)
def available_encoders() -> frozenset[str]:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return frozenset(line.split()[1] for line in out.splitlines() if line.startswith(" V"))


@functools.lru_cache(maxsize=1)
def has_libvmaf() -> bool:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    return any(line.split()[1:2] == ["libvmaf"] for line in out.splitlines() if line.strip())
