"""`genvc train`: train a model on a folder of videos, resume a run, or export a checkpoint."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  genvc train --config configs/tiny.yaml
  genvc train --config configs/small.yaml --set data.folder=videos/ --set optim.lr=1e-4
  genvc train --config configs/small.yaml --resume          # continue from the latest checkpoint
  accelerate launch -m genvc.cli train --config configs/wan-lora.yaml   # several GPUs / nodes
  genvc train --export runs/small -o my-model/               # latest checkpoint -> model folder
  genvc train --config configs/wan-lora.yaml --dry-run --gpus 8 --fsdp   # sizes and memory, no weights, no GPU

Outputs in output_dir: checkpoints/step-XXXXXXXX (atomic, last K kept), metrics.jsonl (losses, validation
PSNR), loss_curve.png, cache/ (decoded frames), and model/ (save_pretrained; use with
`genvc encode/decode --model DIR`). Ctrl-C or SIGTERM saves a checkpoint and stops (exit 130).
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a model on a folder of videos (or export a checkpoint)",
        description="Train a genvc model on clips from a folder of videos, with accelerate (CPU, one or many "
        "GPUs). The YAML/TOML config names the data, model, optimizer, schedule and output folder.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", metavar="FILE", help="training config (.yaml, .yml or .toml)")
    parser.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                        help="override a config value, e.g. --set optim.lr=1e-4 --set data.crop=[64,64] (repeatable)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the latest checkpoint in output_dir (starts fresh if there is none)")
    parser.add_argument("--export", metavar="CKPT", help="export a checkpoint folder (or a run's output_dir: its "
                        "latest checkpoint) as a model folder, then exit; needs -o")
    parser.add_argument("-o", "--output", metavar="MODEL_DIR", help="model folder written by --export")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config as YAML and exit")
    parser.add_argument("--dry-run", action="store_true",
                        help="build the model on the meta device (no weights, no GPU), print parameter counts, input "
                        "channels and an estimated peak memory per GPU of one training step, then exit")
    parser.add_argument("--json", action="store_true", help="with --dry-run: print one JSON object")
    parser.add_argument("--gpus", type=int, default=1, metavar="N",
                        help="with --dry-run: GPUs the global batch is split over (default 1)")
    parser.add_argument("--fsdp", action="store_true",
                        help="with --dry-run: estimate with FSDP full sharding over --gpus (configs/accelerate/fsdp.yaml)")
    parser.add_argument("--gpu-memory", type=float, default=80.0, metavar="GIB",
                        help="with --dry-run: one GPU's memory in GiB; the report says whether the estimate fits it, "
                        "and if not on how many GPUs with FSDP it would (default: 80, an 80 GB A100/H100)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from genvc.errors import InputError

    if args.export:
        if not args.output:
            raise InputError("--export needs -o MODEL_DIR")
        from genvc.training.model_io import export_checkpoint

        print(f"model saved to {export_checkpoint(args.export, args.output)}")
        return 0
    if args.output:
        raise InputError("-o/--output is only used with --export (training writes to output_dir/model)")
    if not args.config:
        raise InputError("--config FILE is required (see configs/tiny.yaml), or --export CKPT -o DIR")
    from genvc.training.config import load_config

    config = load_config(args.config, args.overrides)
    if args.dry_run:
        import json

        from genvc.training.dry_run import dry_run, format_report

        if args.gpu_memory <= 0:
            raise InputError(f"--gpu-memory must be positive, got {args.gpu_memory}")
        info = dry_run(config, gpus=args.gpus, fsdp=args.fsdp, gpu_memory_gib=args.gpu_memory)
        print(json.dumps(info, indent=2) if args.json else format_report(info))
        return 0
    if args.json or args.fsdp or args.gpus != 1 or args.gpu_memory != 80.0:
        raise InputError("--json, --gpus, --fsdp and --gpu-memory go with --dry-run")
    if args.print_config:
        import yaml

        print(yaml.safe_dump(config.to_dict(), sort_keys=False), end="")
        return 0
    from genvc.training.trainer import Trainer

    result = Trainer(config, resume=args.resume).train()
    return 130 if result.interrupted else 0
