#!/usr/bin/env bash
# Behaviour check for a refactor: code the same ten streams with genvc at REV (a git worktree) and with this
# working tree, and compare them byte for byte. Cases: the sample clips cuts (160×90, many cuts) and carphone
# (176×144); sketch, interp, flowib, multic, hybrid; tunes lpips (default), psnr and vmaf; --keyframe-bytes; a
# 60-frame video in three clips (the whole-stream judge samples it). ~7 CPU-minutes a side on 2 cores.
#   tools/identity_check.sh REV [OUTDIR [AFTER_ARGS]]     e.g. tools/identity_check.sh 04eef70
# AFTER_ARGS go to this tree's encodes only, e.g. "--preset slow" where the default changed since REV.
set -euo pipefail
REV=${1:?usage: tools/identity_check.sh REV [OUTDIR [AFTER_ARGS]]}
OUT=${2:-$(mktemp -d)}
AFTER_ARGS=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
python - <<'PY'
from genvc.samples import sample_path
for name in ("cuts", "carphone"):
    sample_path(name)
PY
SAMPLES=$(python -c "from genvc.samples import cache_dir; print(cache_dir())")
git -C "$ROOT" worktree add --detach "$OUT/base-src" "$REV" >/dev/null

code_all() {  # code_all SRC_ROOT DIR [EXTRA_ARGS]
    local src=$1 dir=$2 extra=${3:-}
    mkdir -p "$dir"
    enc() {
        local name=$1; shift
        # shellcheck disable=SC2086
        PYTHONPATH=$src/src python -m genvc encode -q -y --threads 1 --workers 1 "$@" $extra -o "$dir/$name.gvc" \
            2>>"$dir/log.txt"
    }
    enc cuts_sketch_01 "$SAMPLES/cuts.mp4" --frames 45 --bpp 0.01
    enc cuts_interp_01 "$SAMPLES/cuts.mp4" --frames 45 --bpp 0.01 --method interp
    enc cuts_flowib_01 "$SAMPLES/cuts.mp4" --frames 45 --bpp 0.01 --method flowib
    enc cuts_multic_02 "$SAMPLES/cuts.mp4" --frames 45 --bpp 0.02 --method multic
    enc cuts_sketch_kfb "$SAMPLES/cuts.mp4" --frames 30 --keyframe-bytes 400
    enc cuts_sketch_psnr "$SAMPLES/cuts.mp4" --frames 45 --bpp 0.005 --tune psnr
    enc carphone_sketch_005 "$SAMPLES/carphone.mp4" --frames 45 --bpp 0.005
    enc carphone_sketch_vmaf "$SAMPLES/carphone.mp4" --frames 20 --bpp 0.01 --tune vmaf
    enc carphone_long_002 "$SAMPLES/carphone.mp4" --frames 60 --interval 20 --bpp 0.002 --no-shot-detection
    enc carphone_hybrid "$SAMPLES/carphone.mp4" --frames 20 --bpp 0.01 --method hybrid
}

code_all "$OUT/base-src" "$OUT/before"
code_all "$ROOT" "$OUT/after" "$AFTER_ARGS"
git -C "$ROOT" worktree remove --force "$OUT/base-src"
status=0
for f in "$OUT"/before/*.gvc; do
    name=$(basename "$f")
    if cmp -s "$f" "$OUT/after/$name"; then
        echo "same      $name ($(stat -c %s "$f") bytes)"
    else
        echo "DIFFERENT $name"; status=1
    fi
done
exit $status
