"""Run a command and report its wall time and the peak memory of its whole process tree.

`/usr/bin/time -v` reports the largest single process; with `--workers N` (and ffmpeg/vvenc children) what a
machine must hold is the sum over the tree, which this samples every 0.2 s.

    python tools/peak_memory.py -- genvc encode long.mp4 -o long.gvc --workers 2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import psutil


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:  # ended between listing and reading
            pass
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=0.2, help="sampling period in seconds")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    started = time.perf_counter()
    child = subprocess.Popen(command)
    process, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            peak = max(peak, tree_rss(process))
        except psutil.Error:
            pass
        time.sleep(args.interval)
    seconds = time.perf_counter() - started
    print(f"peak_memory: exit {child.returncode}, {seconds:.1f} s wall, peak tree RSS {peak / 2**20:.0f} MiB",
          file=sys.stderr)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
