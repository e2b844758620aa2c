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

What is judged: `sample_frames` picks the frames (runs of neighbours, one in each equal part of the clip or video),
`score` scores them, `stream_score` scores a whole decoded stream (streamed: memory does not grow with the video),
and a `Judge` scores one sketch candidate (`plain_judge`: its upsampled frames as they are; the sketch method's
judge adds the generator).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Iterable

import numpy as np

from genvc.utils.digest import content_key

TUNES = ("lpips", "dists", "vmaf", "vmaf-neg", "psnr")
DEFAULT_TUNE = "lpips"
#: libvmaf fails on tiny frames; there, and without libvmaf, MSE judges
VMAF_MIN_SIDE = 64
#: reference features kept (a set of 15 judged 720p frames holds ~370 MB of AlexNet features)
_REFERENCES_KEPT = 2
_references: OrderedDict[bytes, list] = OrderedDict()

#: a clip's candidates are judged on 5 runs of 3 frames; a whole stream (the encoder's candidate and allocation
#: searches) on 9 runs of 5: one rule (`sample_frames`), a sample sized for a clip and one for a video
CLIP_SAMPLE = (5, 3)
STREAM_SAMPLE = (9, 5)

#: scores a sketch candidate: (its decoded frames at `sample_frames`, upsampled to full size; its scale; its QP) ->
#: higher is better
Judge = Callable[[np.ndarray, float, int], float]


def sample_frames(num_frames: int, runs: int = CLIP_SAMPLE[0], run: int = CLIP_SAMPLE[1]) -> list[int]:
    """The frames judged: `runs` runs of `run` consecutive frames (VMAF's motion feature needs neighbours), one at
    the centre of each equal part of the clip (a stratified sample: every part of the clip counts alike); all frames
    of a short clip.

    Measured (exp: every scale of synth-pan and synth-zoom at 0.005 bpp coded at the budget, VMAF of the sample
    against VMAF over all 45 frames): 5 runs of 3 were within 0.1-0.6 of the all-frame score at every scale and
    picked the all-frame best on both; the former runs of 5 at the start, middle and end were 1.3-2.3 below (the
    start run sits next to the intra picture) and picked 1/1.5 on synth-pan, where all frames say full size."""
    if num_frames <= runs * run:
        return list(range(num_frames))
    centres = [int((k + 0.5) * num_frames / runs) for k in range(runs)]
    return sorted({min(max(c - run // 2, 0), num_frames - run) + i for c in centres for i in range(run)})


def stream_sample(num_frames: int) -> list[int]:
    """The frames a whole candidate stream is judged on: all of a short video, else `STREAM_SAMPLE` runs."""
    return sample_frames(num_frames, *STREAM_SAMPLE)


def plain_judge(frames: np.ndarray, tune: str = DEFAULT_TUNE) -> Judge:
    """Judges a sketch candidate by the tuned metric of its upsampled frames alone (no learned part)."""
    sample = sample_frames(len(frames))
    return lambda decoded, scale, qp: score(frames[sample], decoded, tune)


def stream_score(pairs: Iterable[tuple[np.ndarray | None, np.ndarray | None]], num_frames: int,
                 tune: str = DEFAULT_TUNE) -> float:
    """How close a decoded stream is to its source by the tuned metric (higher is better), from (original, decoded)
    frame pairs in display order: with tune "psnr" minus the mean squared error over every frame, else `score` on
    the `stream_sample` frames (pairs elsewhere may be None: a decoder asked for those frames only skips the
    rest). Streamed: memory holds the judged frames, not the video."""
    if tune == "psnr":
        total = sum(float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2)) for a, b in pairs)
        return -total / max(1, num_frames)
    judged = set(stream_sample(num_frames))
    kept = [(a, b) for i, (a, b) in enumerate(pairs) if i in judged]
    return score(np.stack([a for a, _ in kept]), np.stack([b for _, b in kept]), tune)


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


def forget_references() -> None:
    """Drop the cached reference features (`genvc.codec.encoder.forget_measurements`)."""
    _references.clear()


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
