"""Clip datasets over cached videos, and the deterministic sampler that makes resumed runs see the same data.

A sample is addressed by a key ``(epoch, index)``; its clip (video, start, temporal stride, crop) is drawn from
``numpy.random.default_rng([seed, epoch, index])`` and nothing else, so it does not depend on worker count,
process count or when the run was interrupted. The order of indices in an epoch is a permutation seeded by
``(seed, epoch)``; the stream of training samples is the concatenation of these epochs, and a run's data
position is simply how many samples it has consumed.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch.utils.data import Dataset

from genvc.errors import InputError
from genvc.training.config import DataConfig
from genvc.training.frame_cache import open_frames
from genvc.training.sketch_cache import upsampled


@dataclass(frozen=True)
class FrameRange:
    """Frames [start, stop) of one cached video (an .npy of uint8 T×H×W×3)."""

    path: Path
    start: int
    stop: int

    @property
    def length(self) -> int:
        return self.stop - self.start


class _OpenVideos:
    """Opens videos (memory-mapped cache files or `DecodedVideo`s) lazily, once per process: memmaps must not be
    pickled into data workers."""

    def __init__(self, resize=None) -> None:
        self.resize = resize
        self._open: dict[Path, object] = {}

    def __getstate__(self) -> dict:
        return {"resize": self.resize, "_open": {}}

    def get(self, path: Path):
        if path not in self._open:
            self._open[path] = open_frames(path, self.resize)
        return self._open[path]


def split_ranges(cached: list[Path], names: list[str], config: DataConfig) -> tuple[list[FrameRange], list[FrameRange]]:
    """(train, validation) frame ranges of `cached` (.npy caches or the video files themselves). Validation frames
    are never in a training range: whole `val_videos`, or else the last `val_clips * clip_frames` frames of the
    last video."""
    videos = _OpenVideos(config.resize)
    lengths = [int(videos.get(p).shape[0]) for p in cached]
    unknown = set(config.val_videos) - set(names)
    if unknown:
        raise InputError(f"data.val_videos not found under data.folder: {', '.join(sorted(unknown))}")
    train, val = [], []
    for path, name, n in zip(cached, names, lengths):
        (val if name in config.val_videos else train).append(FrameRange(path, 0, n))
    if not config.val_videos and config.val_clips and train:
        last = train.pop()
        hold = min(last.length, config.val_clips * config.clip_frames)
        val.append(FrameRange(last.path, last.length - hold, last.length))
        if last.length - hold > 0:
            train.append(FrameRange(last.path, 0, last.length - hold))
    short = [r for r in train if r.length < config.clip_frames]
    train = [r for r in train if r.length >= config.clip_frames]
    if not train:
        raise InputError(
            f"no training video has {config.clip_frames} frames (data.clip_frames) left after holding out "
            f"validation frames; {len(short)} too short. Add videos or lower data.clip_frames / data.val_clips"
        )
    return train, val


def _crop_box(shape: tuple[int, int], crop: tuple[int, int], rng: np.random.Generator | None) -> tuple[int, int]:
    h, w = shape
    ch, cw = crop
    if ch > h or cw > w:
        raise InputError(f"data.crop {ch}x{cw} is larger than the (resized) frames {h}x{w}; lower crop or raise resize")
    if rng is None:
        return (h - ch) // 2, (w - cw) // 2
    return int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))


def _to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 T×H×W×3 -> float 3×T×H×W in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2).float().div(127.5).sub(1.0)


def load_conditions_fn(spec: str | None) -> Callable | None:
    """Resolve "module:function" (frames uint8 T×H×W×3 -> {modality: uint8 T×H×W×3}). A function with a
    `full_frames` parameter also gets the clip's whole frames and `crop_box` (top, left) of the crop in them, so
    it can extract conditions as the codec does, on whole frames, and then crop them."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"data.conditions: cannot load {spec!r}: {exc}") from None


def _condition_tensor(value: np.ndarray) -> torch.Tensor:
    """Image sequences (uint8 T×H×W×C) as video tensors; anything else (e.g. a per-clip vector) as it is."""
    return _to_tensor(value) if value.ndim == 4 else torch.from_numpy(np.asarray(value, np.float32))


class _ClipSource(Dataset):
    def __init__(self, config: DataConfig, sketches: dict[Path, list[Path]] | None = None) -> None:
        self.config = config
        self.videos = _OpenVideos(config.resize)
        self.sketches = sketches or {}  # cached source -> its coded sketch variants (config.sketches order)
        self._conditions_spec = config.conditions
        self._conditions_fn = None
        self._conditions_take_whole = False  # whether the hook takes `full_frames` (read once, when it is loaded)

    def _sample(self, path: Path, where: tuple[slice, slice, slice], sketch: dict) -> dict:
        """The clip `where` (frames, rows, columns) of the video at `path`. `sketch`: the clip's coded sketch
        (`_sketch`), passed on to the conditions hook; {} for none."""
        frames = self.videos.get(path)[where]
        sample = {"video": _to_tensor(frames)}
        if self._conditions_spec:
            if self._conditions_fn is None:
                self._conditions_fn = load_conditions_fn(self._conditions_spec)
                self._conditions_take_whole = "full_frames" in inspect.signature(self._conditions_fn).parameters
            context = dict(sketch)
            if self._conditions_take_whole:
                context.update(full_frames=self.videos.get(path)[where[0]], crop_box=(where[1].start, where[2].start))
            sample["conditions"] = {k: _condition_tensor(v) for k, v in self._conditions_fn(frames, **context).items()}
        return sample

    def _sketch(self, path: Path, variant: int | None, index) -> dict:
        """The same frames and crop (`index`: frames, rows, columns) of sketch `variant` of `path`, upsampled as
        the decoder does, with its scale and QP (nothing without a sketch)."""
        if variant is None:
            return {}
        scale, qp = self.config.sketches[variant]
        height, width = self.videos.get(path).shape[1:3]
        frames = upsampled(self.videos.get(self.sketches[path][variant])[index[0]], width, height, float(scale))
        return {"sketch": frames[(slice(None), *index[1:])], "scale": float(scale), "qp": int(qp)}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_conditions_fn": None}


class ClipDataset(_ClipSource):
    """Random training clips, addressed by ``(epoch, index)`` keys (see the module docstring)."""

    def __init__(self, ranges: list[FrameRange], config: DataConfig, seed: int,
                 sketches: dict[Path, list[Path]] | None = None) -> None:
        super().__init__(config, sketches)
        self.ranges = ranges
        self.seed = seed
        # Longer videos get proportionally more samples per epoch (at least one each).
        slots = [max(1, r.length // config.clip_frames) for r in ranges]
        self.offsets = np.cumsum([0] + slots)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def clip_plan(self, epoch: int, index: int) -> tuple[FrameRange, int, int, tuple[int, int]]:
        """(range, first frame, stride, crop corner) of sample `(epoch, index)`."""
        rng = np.random.default_rng([self.seed, epoch, index])
        frange = self.ranges[int(np.searchsorted(self.offsets, index, side="right")) - 1]
        n = self.config.clip_frames
        lo, hi = self.config.frame_stride
        max_stride = max(1, min(hi, (frange.length - 1) // max(1, n - 1)))
        stride = int(rng.integers(min(lo, max_stride), max_stride + 1))
        span = (n - 1) * stride + 1
        start = frange.start + int(rng.integers(0, frange.length - span + 1))
        video = self.videos.get(frange.path)
        corner = _crop_box(video.shape[1:3], self.config.crop, rng)
        return frange, start, stride, corner

    def sketch_variant(self, epoch: int, index: int) -> int | None:
        """Which coded sketch sample `(epoch, index)` comes with (None: none); its own seed stream, so adding
        sketches leaves every clip plan as it was."""
        if not self.sketches:
            return None
        rng = np.random.default_rng([self.seed, epoch, index, 1])
        return int(rng.integers(len(self.config.sketches))) if rng.random() < self.config.sketch_share else None

    def __getitem__(self, key: tuple[int, int]) -> dict:
        epoch, index = key
        frange, start, stride, (y, x) = self.clip_plan(epoch, index)
        ch, cw = self.config.crop
        where = (slice(start, start + (self.config.clip_frames - 1) * stride + 1, stride), slice(y, y + ch),
                 slice(x, x + cw))
        return self._sample(frange.path, where, self._sketch(frange.path, self.sketch_variant(epoch, index), where))


class ValidationClips(_ClipSource):
    """Fixed held-out clips: stride 1, centre crop, starts spread evenly over the validation ranges."""

    def __init__(self, ranges: list[FrameRange], config: DataConfig,
                 sketches: dict[Path, list[Path]] | None = None) -> None:
        super().__init__(config, sketches)
        n = config.clip_frames
        usable = [r for r in ranges if r.length >= n]
        self.clips: list[tuple[Path, int]] = []
        for i in range(config.val_clips if usable else 0):
            frange = usable[i % len(usable)]
            per_range = -(-config.val_clips // len(usable))
            slot = i // len(usable)
            free = frange.length - n
            start = frange.start + (free * slot // max(1, per_range - 1) if per_range > 1 else free // 2)
            self.clips.append((frange.path, start))

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> dict:
        path, start = self.clips[i]
        video = self.videos.get(path)
        y, x = _crop_box(video.shape[1:3], self.config.crop, None)
        ch, cw = self.config.crop
        where = (slice(start, start + self.config.clip_frames), slice(y, y + ch), slice(x, x + cw))
        # with sketches, every other clip comes with one (variants in turn): validation covers both predictions
        variant = (i // 2) % len(self.config.sketches) if self.sketches and i % 2 else None
        return self._sample(path, where, self._sketch(path, variant, where))


class ResumableBatchSampler:
    """Yields this process's share of each global batch of ``(epoch, index)`` keys, from a sample position on.

    Global batch ``b`` (counting from the start of training) holds stream samples ``[b·B, (b+1)·B)``; process
    ``r`` of ``W`` takes keys ``r, r+W, ...`` of it, so the global data order does not depend on ``W``.
    """

    def __init__(self, dataset_len: int, global_batch: int, seed: int, start_sample: int = 0,
                 rank: int = 0, world: int = 1) -> None:
        if global_batch % world:
            raise InputError(f"schedule.batch_size ({global_batch}) must be divisible by the process count ({world})")
        self.n, self.batch, self.seed = dataset_len, global_batch, seed
        self.start, self.rank, self.world = start_sample, rank, world

    def key(self, position: int) -> tuple[int, int]:
        epoch, offset = divmod(position, self.n)
        return epoch, int(self._permutation(epoch)[offset])

    def _permutation(self, epoch: int) -> np.ndarray:
        if getattr(self, "_epoch", None) != epoch:
            self._epoch, self._perm = epoch, np.random.default_rng([self.seed, epoch]).permutation(self.n)
        return self._perm

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        position = self.start
        while True:
            keys = [self.key(p) for p in range(position, position + self.batch)]
            yield keys[self.rank :: self.world]
            position += self.batch
