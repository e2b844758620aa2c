"""The papers' ablations at this scale, one table: each variant trained with `genvc train` on the same data for
the same steps, then measured on the same held-out validation clips.

    python tools/generator_ablation.py --data /tmp/genvc-media/videos --steps 300 -o ablation/

- prior: conditional (h's Gaussian predicted from the receiver's prediction) vs standard (factorised): bits of h
  per pixel at the quality each reaches;
- path: reformed (z → x) vs noise → data (z on channels), decoded with 1, 2, 4 and 10 Euler steps;
- modality dropout 0.3 vs 0 on a model with the flow condition, tested with the flow condition present and missing.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

#: variant -> `--set` overrides on configs/pixelflow.yaml
VARIANTS = {
    "conditional prior": {},
    "standard prior": {"model.prior": "standard"},
    "noise path": {"model.path": "noise"},
    "flow, dropout 0.3": {"model.modalities": ["flow"],
                          "data.conditions": "genvc.training.coded_inputs:coded_receiver_inputs_with_flow"},
    "flow, dropout 0": {"model.modalities": ["flow"], "model.modality_dropout": 0.0,
                        "data.conditions": "genvc.training.coded_inputs:coded_receiver_inputs_with_flow"},
}


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = ((a - b) / 2).pow(2).mean().item()
    return 10 * math.log10(1 / max(mse, 1e-12))


@torch.no_grad()
def evaluate(model, clips, steps: int, drop: tuple[str, ...] = ()) -> dict:
    """PSNR of the decoded validation clips (rounded h at step 1) and bits of h per pixel."""
    psnrs, bpps = [], []
    for item in clips:
        video = item["video"][None]
        conditions = {k: v[None] for k, v in item["conditions"].items() if k not in drop}
        x = model.to_latent(video)
        prediction, context = model.receiver_latents(conditions)
        h, _ = model.compressor.down(x, prediction)
        h_hat = model.entropy.quantize(h, context)
        bits = model.entropy.rate_bits(h, context).item()
        out = model.from_latent(model.decode_latent(h_hat, prediction, context, conditions, conditions, steps))
        psnrs.append(_psnr(video, out.clamp(-1, 1)))
        bpps.append(bits / video[0, 0].numel())
    return {"psnr": sum(psnrs) / len(psnrs), "bpp_h": sum(bpps) / len(bpps)}


def main() -> None:
    from genvc.training.config import load_config
    from genvc.training.model_io import load_checkpoint_model
    from genvc.training.trainer import Trainer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="folder of training videos (python -m genvc.training.media)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--config", default="configs/pixelflow.yaml")
    parser.add_argument("--val-video", default="sports2d/demo.mp4", help="held-out video, relative to --data")
    parser.add_argument("-o", "--output", default="ablation")
    args = parser.parse_args()
    out = Path(args.output)
    rows = []
    for name, overrides in VARIANTS.items():
        sets = [f"data.folder={args.data}", f"output_dir={out / name.replace(' ', '_').replace(',', '')}",
                f"schedule.max_steps={args.steps}", "schedule.val_every=100000", "data.val_clips=6",
                f"data.val_videos={json.dumps([args.val_video])}", f"data.cache_dir={out / 'cache'}"] + [f"{k}={json.dumps(v)}" for k, v in overrides.items()]
        config = load_config(args.config, sets)
        trainer = Trainer(config, resume=True)
        result = trainer.train()
        model, _ = load_checkpoint_model(result.checkpoint)
        model.eval()
        clips = [trainer.val_data[i] for i in range(len(trainer.val_data))]
        if name == "noise path" or name == "conditional prior":
            for steps in (1, 2, 4, 10):
                rows.append({"variant": name, "steps": steps, **evaluate(model, clips, steps)})
        elif "flow" in name:
            rows.append({"variant": name, "test": "flow sent", **evaluate(model, clips, 4)})
            rows.append({"variant": name, "test": "flow missing", **evaluate(model, clips, 4, ("flow",))})
        else:
            rows.append({"variant": name, "steps": 4, **evaluate(model, clips, 4)})
        print(json.dumps(rows[-1]), flush=True)
    lines = ["| variant | setting | PSNR (dB) | h bits/pixel |", "|---|---|---|---|"]
    for r in rows:
        setting = r.get("test") or f"{r['steps']} steps"
        lines.append(f"| {r['variant']} | {setting} | {r['psnr']:.2f} | {r['bpp_h']:.4f} |")
    (out / "ablation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
