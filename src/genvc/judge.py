"""The encoder's judge: the metric its decisions maximise (`--tune`) and how a candidate is scored on it.

Tunes, higher score is better:
- "lpips": minus LPIPS (AlexNet), the papers' metric, on every judged frame; the reference's features are computed
  once per set of judged frames and reused for every candidate judged against it;
- "dists": minus DISTS (VGG16, ~20× LPIPS-Alex's cost per pixel), on the centre frame of each judged run of three;
- "vmaf" / "vmaf-neg": VMAF, or VMAF without its credit for sharpening (where libvmaf runs: frames ≥ 64 px a side);
- "psnr": minus the mean squared error (also the fallback of the other tunes on frames too small for their
  networks: VMAF below 64 px a side, LPIPS and DISTS below 32).
The perceptual tunes need their pinned weight packages: without them the encode stops with a ModelError naming
the package, never a silent fallback.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from genvc.utils.digest import content_key

TUNES = ("lpips", "dists", "vmaf", "vmaf-neg", "psnr")
DEFAULT_TUNE = "lpips"
#: libvmaf fails on tiny frames; there, and without libvmaf, MSE judges
VMAF_MIN_SIDE = 64
#: reference features kept (a set of 15 judged 720p frames holds ~370 MB of AlexNet features)
_REFERENCES_KEPT = 2
_references: OrderedDict[bytes, list] = OrderedDict()


def score(original: np.ndarray, decoded: np.ndarray, tune: str = DEFAULT_TUNE) -> float:
    """How close uint8 RGB `decoded` (T, H, W, 3) is to `original` by the tuned metric; higher is better."""
    if tune in ("lpips", "dists") and min(original.shape[1:3]) >= _perceptual_min_side():
        if tune == "lpips":
            return -_lpips(original, decoded)
        from genvc.metrics.dists import dists_per_frame, load_dists

        centres = slice(1, None, 3) if len(original) >= 3 else slice(None)
        return -float(dists_per_frame(load_dists(), original[centres], decoded[centres]).mean())
    if tune in ("vmaf", "vmaf-neg") and min(original.shape[1:3]) >= VMAF_MIN_SIDE:
        from genvc.metrics.vmaf import VMAF_MODEL, VMAF_NEG, vmaf

        value = vmaf(original, decoded, model=VMAF_NEG if tune == "vmaf-neg" else VMAF_MODEL)
        if value is not None:
            return float(value)
    return -float(np.mean((original.astype(np.float32) - decoded.astype(np.float32)) ** 2))


def _perceptual_min_side() -> int:
    from genvc.metrics.lpips import MIN_SIDE  # torch: imported only where a perceptual tune runs

    return MIN_SIDE


def _lpips(original: np.ndarray, decoded: np.ndarray, batch: int = 4) -> float:
    import torch

    from genvc.metrics.lpips import load_lpips, to_tensor

    model = load_lpips("alex")
    key = content_key(("lpips-reference",), original)
    with torch.no_grad():
        if key not in _references:
            _references[key] = [model.features(to_tensor(original[i:i + batch]))
                                for i in range(0, len(original), batch)]
            while len(_references) > _REFERENCES_KEPT:
                _references.popitem(last=False)
        _references.move_to_end(key)
        values = [model.distance(reference, model.features(to_tensor(decoded[i:i + batch])))
                  for reference, i in zip(_references[key], range(0, len(decoded), batch))]
    return float(torch.cat(values).mean())
