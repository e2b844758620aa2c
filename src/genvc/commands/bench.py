"""`genvc bench VIDEOS... --bpp ...`: genvc and classical codecs at matched rates → CSV/JSON, plots, BD-rate, HTML."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_BPPS = [0.002, 0.005, 0.01, 0.02]


def register(subparsers) -> None:
    from genvc.bench.baselines import BASELINES
    from genvc.bench.scaled import NAME as SCALED

    p = subparsers.add_parser(
        "bench", help="compare genvc with x264/x265/SVT-AV1/libaom/VVenC at matched rates",
        description="Encode each video with every codec at each target bpp (baselines by a CRF/QP search on "
        "picture bytes), measure PSNR/SSIM/MS-SSIM/VMAF/LPIPS/FVD, and write results.csv, results.json, RD "
        "plots, BD-rate tables and report.html to DIR. Points already in DIR are kept (resumable).")
    p.add_argument("videos", nargs="+", metavar="VIDEO",
                   help="video files, sample names (bikes, bigbuckbunny, ...) or synthetic clips (synth-static, "
                   "synth-pan, synth-zoom, synth-cut)")
    p.add_argument("--bpp", nargs="+", type=float, default=DEFAULT_BPPS, help="target bits per pixel")
    p.add_argument("--codecs", nargs="+", default=["genvc", SCALED, *BASELINES], metavar="CODEC",
                   help=f"genvc and/or {SCALED} (vvenc at genvc's scale search, Lanczos upsampling, no learned "
                   f"part), {', '.join(BASELINES)} (default: all)")
    p.add_argument("--frames", type=int, default=None, help="use the first N frames of each video")
    p.add_argument("--method", default="sketch", help="genvc clip method (default: sketch)")
    p.add_argument("--preset", action="append", default=[], metavar="CODEC=PRESET",
                   help="override a baseline's preset, e.g. x265=medium, svtav1=8, aom=5 (cpu-used), vvenc=fast (vvenc's default: medium, the preset genvc codes with)")
    p.add_argument("--anchor", default="x265", help="codec the BD-rates are computed against (default: x265)")
    p.add_argument("--threads", type=int, default=2, help="threads per encoder/decoder (default: 2)")
    p.add_argument("--no-vmaf", action="store_true", help="skip VMAF")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR", help="output folder")
    p.set_defaults(run=run)


def _parse_presets(items: list[str]) -> dict[str, str]:
    from genvc.errors import InputError

    presets = {}
    for item in items:
        codec, sep, preset = item.partition("=")
        if not sep or not codec or not preset:
            raise InputError(f"--preset wants CODEC=PRESET, got {item!r}")
        presets[codec] = preset
    return presets


def run(args: argparse.Namespace) -> int:
    from genvc.bench.report import write_report
    from genvc.bench.summary import write_summary
    from genvc.bench.runner import Bench, BenchConfig
    from genvc.errors import InputError
    from genvc.metrics import MetricConfig

    if any(b <= 0 for b in args.bpp):
        raise InputError("--bpp values must be positive")
    if args.frames is not None and args.frames < 1:
        raise InputError("--frames must be at least 1")
    args.output.mkdir(parents=True, exist_ok=True)
    config = BenchConfig(videos=args.videos, bpps=args.bpp, out_dir=args.output, codecs=args.codecs,
                         frames=args.frames, method=args.method, presets=_parse_presets(args.preset),
                         threads=args.threads, metrics=MetricConfig(vmaf=not args.no_vmaf, threads=args.threads))
    bench = Bench(config)
    for codec, reason in bench.skipped.items():
        print(f"genvc bench: skipping {codec}: {reason}", file=sys.stderr)
    start = time.perf_counter()
    points = bench.run()
    notes = [f"skipped {c}: {r}" for c, r in bench.skipped.items()]
    notes += _unavailable_notes(points)
    csv_path, json_path = bench.store.write_tables(points)
    report = write_report(bench.store, points, args.anchor, notes)
    summary = write_summary(bench.store.root, points, args.anchor)
    print(f"{len(points)} points in {time.perf_counter() - start:.0f} s → {csv_path}, {json_path}, {report}, {summary}")
    return 0


def _unavailable_notes(points) -> list[str]:
    notes = []
    for metric, why in (("lpips", "LPIPS weights not found (AlexNet backbone in the torch hub cache or "
                                  "$GENVC_LPIPS_BACKBONE, heads from the lpips package)"),
                        ("fvd", "FVD: I3D weights not found (i3d_torchscript.pt in the torch hub cache or $GENVC_I3D)"),
                        ("vmaf", "VMAF not computed")):
        if points and all(p.metrics.get(metric) is None for p in points):
            notes.append(f"{metric}: n/a — {why}")
    return notes
