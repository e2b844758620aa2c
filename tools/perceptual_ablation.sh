#!/usr/bin/env bash
# The restorer's loss ablation (issue 29), one script, one table: the same 500 steps from the L1 restorer (stage 2),
# one loss term added at a time, then every variant restoring the same sketches of the held-out source.
#   tools/perceptual_ablation.sh L1_MODEL_DIR [OUT_DIR]     (L1_MODEL_DIR: stage 2's export, e.g. runs/pixelflow-restorer/model)
# Variants: L1 (500 more steps of stage 2's loss), +LPIPS, +LPIPS +adversarial; DISTS=1 adds +LPIPS +DISTS (a DISTS
# step costs ~8x an LPIPS step on 2 CPU cores). Table: OUT_DIR/ablation.md, crops: OUT_DIR/crops.png.
set -euo pipefail
l1_model=$1
out=${2:-runs/ablation}
common=(--config configs/pixelflow-perceptual.yaml --set "init_from=$l1_model" --set "data.cache_dir=$out/cache"
        --set schedule.max_steps=500
        --set schedule.val_every=250 --set schedule.ckpt_every=250)
variant() {  # name, then the losses
  local name=$1; shift
  [ -d "$out/$name/model" ] || genvc train "${common[@]}" --set "output_dir=$out/$name" "$@"
}
variant l1 --set losses.lpips=0 --set losses.adversarial=0
variant lpips --set losses.lpips=1 --set losses.adversarial=0
variant adversarial --set losses.lpips=1 --set losses.adversarial=0.05
models=("L1 (stage 2)=$l1_model" "L1, 500 more steps=$out/l1/model" "+LPIPS=$out/lpips/model"
        "+LPIPS +adversarial=$out/adversarial/model")
if [ "${DISTS:-0}" = 1 ]; then
  variant dists --set losses.lpips=1 --set losses.dists=1 --set losses.adversarial=0
  models+=("+LPIPS +DISTS=$out/dists/model")
fi
python tools/perceptual_ablation.py data/videos/sports2d/demo.mp4 --height 360 --start 60 --frames 10 \
    --sketches 1:42 2:40 3:40 --models "${models[@]}" "embedded=" -o "$out"
