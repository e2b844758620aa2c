#!/usr/bin/env bash
# --crf at 4 values on 2 sample clips (45 frames): bytes, bpp, LPIPS, DISTS, PSNR, VMAF and each clip's scale and
# QP, from `genvc encode --stats` (docs/presets.md).   tools/crf_table.sh [N ...]
set -euo pipefail
values=${*:-36 42 48 54}
for clip in carphone bikes; do
    path=$(python -c "from genvc.samples import sample_path; print(sample_path('$clip'))")
    for n in $values; do
        out=$(genvc encode "$path" --frames 45 --crf "$n" --stats -o "/tmp/crf_${clip}_$n.gvc" -y -q --workers 1 --threads 1 2>&1)
        echo "$clip N=$n :: $(echo "$out" | head -1) :: $(echo "$out" | grep -i lpips | head -1) :: $(echo "$out" | grep clips | head -1)"
    done
done
