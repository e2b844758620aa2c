"""`genvc conditions`: extract a clip's Multi-C conditions, draw a contact sheet, print their bytes."""

from __future__ import annotations

import argparse
import logging
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "conditions", help="show what Multi-C conditions a clip transmits (contact sheet + bytes)",
        description="Extract segmentation Beziers, pose and sampled flow from the first frames of a video, "
        "render them over the frames as a contact sheet, and print bytes per modality in the paper's bf16 "
        "format and entropy coded, with Eq. 1's prediction and extraction speed.")
    parser.add_argument("input", help="input video")
    parser.add_argument("--level", type=int, default=2, choices=[0, 1, 2, 3], help="Multi-C level (Table 1)")
    parser.add_argument("--frames", type=int, default=45, help="clip length: first N frames (default 45)")
    parser.add_argument("--text", default=None, help="caption sent with the clip")
    parser.add_argument("--rows", type=int, default=4, help="frames shown in the sheet")
    parser.add_argument("-o", "--output", required=True, help="contact sheet (.png)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from genvc.conditions import condition_bytes_report, extract_conditions, render_conditions
    from genvc.conditions.sheet import contact_sheet
    from genvc.errors import InputError
    from genvc.io import read_video
    from genvc.utils.atomic import atomic_path

    if args.frames < 2:
        raise InputError("--frames must be at least 2")
    logging.basicConfig(format="genvc: %(message)s", level=logging.WARNING)
    frames = read_video(args.input, max_frames=args.frames).frames
    t, h, w = frames.shape[:3]
    cond = extract_conditions(frames, args.level, text=args.text)
    with atomic_path(args.output) as tmp:
        contact_sheet(frames, render_conditions(cond), rows=args.rows).save(tmp, format="PNG")
    print(f"{args.input}: {t} frames {w}x{h}, level {args.level}")
    print(f"{'modality':<13}{'bf16 B':>9}{'entropy B':>11}{'Eq.1 B':>9}{'frames/s':>10}")
    for name, row in condition_bytes_report(cond).items():
        eq1 = "-" if row.eq1 is None else f"{row.eq1:.0f}"
        seconds = cond.timings.get(name)
        speed = "-" if not seconds else f"{t / seconds:.1f}"
        print(f"{name:<13}{row.bf16:>9}{row.entropy:>11}{eq1:>9}{speed:>10}")
    print(f"sheet written to {args.output}", file=sys.stderr)
    return 0
