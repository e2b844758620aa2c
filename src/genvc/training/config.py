"""`TrainConfig`: everything a training run needs, loaded from a YAML or TOML file plus `--set key=value` overrides."""

from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from genvc.errors import InputError
from genvc.utils.strict import from_dict, to_dict


@dataclass
class DataConfig:
    """Clips drawn from a folder of videos. Sizes are (height, width)."""

    folder: str = "data"
    glob: str | None = None  # None: every file with a known video extension, recursively
    exclude: list[str] = field(default_factory=list)  # globs (relative to folder) of videos to leave out
    clip_frames: int = 17  # 4k+1 for the VAE-latent models (their video VAE is causal with a 4× temporal stride)
    frame_stride: tuple[int, int] = (1, 2)  # temporal stride drawn uniformly from [min, max]
    resize: int | tuple[int, int] | None = None  # int: short side; [h, w]: exact; None: keep
    crop: tuple[int, int] = (64, 64)  # random crop for training, centre crop for validation
    val_videos: list[str] = field(default_factory=list)  # file names (relative to folder) held out for validation
    val_clips: int = 2  # validation clips; without val_videos they come from the end of the last video
    cache: bool = True  # decode each video once into uint8 .npy files (fast); false: decode clips on the fly
    cache_dir: str | None = None  # where the cache goes; default: <output_dir>/cache
    num_workers: int = 2
    conditions: str | None = None  # "module:function", frames uint8 T×H×W×3 -> {modality: uint8 T×H×W×3}
    # [scale, qp] pairs: each training video is also coded as the codec's sketch at each (`training.sketch_cache`,
    # needs data.cache); a clip then comes with one of them (drawn) for a `sketch_share` of the samples, passed to
    # the conditions hook as `sketch=` (uint8 T×H×W×3, upsampled) and `scale=`
    sketches: list[tuple[float, int]] = field(default_factory=list)
    sketch_share: float = 0.5


@dataclass
class OptimConfig:
    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0  # max global grad norm; None disables
    warmup_steps: int = 0
    lr_schedule: Literal["constant", "cosine"] = "constant"


@dataclass
class ScheduleConfig:
    max_steps: int = 1000
    batch_size: int = 4  # global batch (split over processes), per optimizer step
    grad_accum: int = 1
    log_every: int = 10
    val_every: int = 200
    ckpt_every: int = 200
    keep_checkpoints: int = 3
    seed: int = 0


@dataclass
class PerceptualConfig:
    """Loss weights of the restorer stage (`genvc.training.perceptual`): all zero but `l1` = the plain L1 stage."""

    l1: float = 1.0
    lpips: float = 0.0  # LPIPS on AlexNet
    lpips_vgg: float = 0.0
    dists: float = 0.0
    adversarial: float = 0.0  # the generator's non-saturating GAN loss against a patch discriminator
    discriminator_lr: float = 1e-4
    discriminator_width: int = 64
    discriminator_layers: int = 3

    @property
    def active(self) -> bool:
        """Whether anything beyond plain L1 is asked for."""
        return bool(self.lpips or self.lpips_vgg or self.dists or self.adversarial) or self.l1 != 1.0


@dataclass
class TrainConfig:
    output_dir: str = "runs/genvc"
    model: dict[str, Any] = field(default_factory=dict)  # passed to ModelConfig.from_dict
    model_module: str = "genvc.models"  # module exposing ModelConfig and build_model
    init_from: str | None = None  # a save_pretrained folder to start from (e.g. a previous stage)
    stage: str | None = None  # passed to model.training_losses(batch, stage=...)
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    #: the restorer stage's losses (perceptual and adversarial terms beside L1)
    losses: PerceptualConfig = field(default_factory=PerceptualConfig)

    def __post_init__(self) -> None:
        d, s = self.data, self.schedule
        vae_latent = self.model_module == "genvc.models"  # pixel-latent models (pixelflow) take any length
        if d.clip_frames < 1 or (vae_latent and (d.clip_frames - 1) % 4):
            raise InputError(f"data.clip_frames must be 4k+1 (5, 9, 13, 17, ...), got {d.clip_frames}")
        lo, hi = d.frame_stride
        if not 1 <= lo <= hi:
            raise InputError(f"data.frame_stride must be [min, max] with 1 <= min <= max, got {list(d.frame_stride)}")
        if min(d.crop) < 1:
            raise InputError(f"data.crop must be positive, got {list(d.crop)}")
        positive = {"schedule.max_steps": s.max_steps, "schedule.batch_size": s.batch_size,
                    "schedule.grad_accum": s.grad_accum, "schedule.log_every": s.log_every,
                    "schedule.val_every": s.val_every, "schedule.ckpt_every": s.ckpt_every,
                    "schedule.keep_checkpoints": s.keep_checkpoints, "optim.lr": self.optim.lr}
        for key, value in positive.items():
            if value <= 0:
                raise InputError(f"{key} must be positive, got {value}")
        if d.sketches and (not d.cache or not d.conditions):
            raise InputError("data.sketches needs data.cache: true and a data.conditions hook that takes them")
        if not 0 <= d.sketch_share <= 1:
            raise InputError(f"data.sketch_share must be in [0, 1], got {d.sketch_share}")
        weights = self.losses
        if min(weights.l1, weights.lpips, weights.lpips_vgg, weights.dists, weights.adversarial) < 0:
            raise InputError("losses: every weight must be >= 0")
        if weights.active and self.stage != "restorer":
            raise InputError("losses: perceptual and adversarial terms train the restorer (stage: restorer)")
        if d.val_clips < 0 or d.num_workers < 0 or self.optim.warmup_steps < 0:
            raise InputError("data.val_clips, data.num_workers and optim.warmup_steps must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        return from_dict(cls, data)

    @property
    def cache_dir(self) -> Path:
        return Path(self.data.cache_dir) if self.data.cache_dir else Path(self.output_dir) / "cache"


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a .yaml/.yml or .toml file into a dict (not yet validated)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such config file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text()) or {}
        elif suffix == ".toml":
            data = tomllib.loads(path.read_text())
        else:
            raise InputError(f"config must be .yaml, .yml or .toml, got {path.name}")
    except (yaml.YAMLError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse {path}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: the top level must be a mapping of keys")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b.c=value` overrides; values are parsed as YAML (`8`, `1e-4`, `[64, 64]`, `null`, `bf16`)."""
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set expects KEY=VALUE (e.g. optim.lr=1e-4), got {item!r}")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise InputError(f"--set {item!r}: cannot parse value: {exc}") from None
        parts = key.strip().split(".")
        node = data
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"--set {item!r}: {part!r} is not a table")
            node = child
        node[parts[-1]] = value
    return data


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | None = None) -> TrainConfig:
    data = read_config_file(path) if path is not None else {}
    return TrainConfig.from_dict(apply_overrides(data, overrides or []))
