"""Encode time of each `--preset` against one vvenc `medium` encode of the same clip, each in a fresh process on an
otherwise idle machine (the bench's in-process times are not independent between presets: it now drops what an
encode remembers between points, `genvc.codec.encoder.forget_measurements`, but its machine may be shared).

genvc's time is the one `genvc encode` prints (the encode, model and TransNetV2 loading included, Python's imports
not); vvenc's is the wall time of one ffmpeg libvvenc `medium` encode at the QP a bench run found for the target
(`--bench DIR`), or at `--qp`.

    python tools/preset_timing.py sports2d_640.y4m carphone --bpp 0.005 --bench bench_out/
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from genvc.bench.runner import load_video, resolve_video
from genvc.ffmpeg import ffmpeg_exe


def vvenc_seconds(y4m: Path, qp: int) -> float:
    started = time.perf_counter()
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(y4m), "-c:v", "libvvenc", "-preset", "medium", "-qp",
                    str(qp), "-threads", "2", "-f", "vvc", "-y", "/dev/null"], check=True)
    return time.perf_counter() - started


def bench_qp(bench: Path | None, video: str, bpp: float) -> int | None:
    for path in (bench / "points").glob(f"{video}__vvenc__*bpp{bpp:g}__*.json") if bench else ():
        return json.loads(path.read_text())["q"]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos", nargs="+")
    parser.add_argument("--bpp", type=float, default=0.005)
    parser.add_argument("--frames", type=int, default=45)
    parser.add_argument("--bench", type=Path)
    parser.add_argument("--qp", type=int, default=40)
    args = parser.parse_args()
    print("| video | preset | bytes | encode s | × vvenc |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in (resolve_video(v) for v in args.videos):
            from genvc.io import write_video

            y4m = Path(tmp) / f"{name}.y4m"
            write_video(y4m, load_video(path, args.frames))
            qp = bench_qp(args.bench, name, args.bpp) or args.qp
            reference = vvenc_seconds(y4m, qp)
            print(f"| {name} | vvenc medium, QP {qp} | | {reference:.1f} | 1 |", flush=True)
            for preset in ("fast", "medium", "slow"):
                out = subprocess.run([sys.executable, "-m", "genvc", "encode", str(y4m), "-o", f"{tmp}/o.gvc", "-y",
                                      "-q", "--bpp", str(args.bpp), "--preset", preset, "--workers", "1"],
                                     capture_output=True, text=True, check=True).stdout
                size, seconds = re.search(r"(\d+) bytes, .* ([\d.]+) s\n", out).groups()
                print(f"| {name} | {preset} | {size} | {float(seconds):.1f} | {float(seconds) / reference:.1f} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
