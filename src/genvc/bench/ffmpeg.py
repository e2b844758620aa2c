"""Running the static ffmpeg that imageio-ffmpeg ships (libx264/x265/svtav1/aom/vvenc/libvmaf), with its wall
time and its peak resident memory.

Peak memory is the child's VmHWM from /proc, polled until it exits: rusage's ru_maxrss of a child is useless
here, because Linux folds the forking Python process's RSS into it at exec time. Processes that live less than
the polling interval may report less than their true peak; None where /proc is absent."""

from __future__ import annotations

import functools
import re
import subprocess
import threading
import time
from dataclasses import dataclass

from genvc.errors import InputError
from genvc.intra.ffmpeg_codecs import ffmpeg_exe


@dataclass
class ProcessResult:
    stdout: bytes
    stderr: bytes
    seconds: float
    peak_rss_mb: float | None


def run_ffmpeg(args: list[str], stdin: bytes | None = None) -> ProcessResult:
    """Run `ffmpeg args`; raise InputError with the tail of stderr when it fails."""
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
        raise InputError(f"ffmpeg failed ({proc.returncode}): {' '.join(cmd[4:])[:300]}\n"
                         f"{stderr.decode(errors='replace')[-1500:]}")
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
