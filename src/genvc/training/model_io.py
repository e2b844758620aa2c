"""Building the model a config names, the loss wrapper the trainer optimises, and exporting trained weights.

The model contract (``genvc.models``, or any module named by ``model_module``): ``ModelConfig.from_dict``,
``build_model(config)`` returning a module with ``training_losses(batch, stage=...)``, ``reconstruct(video, stage=...)`` and
``save_pretrained(dir)``.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from torch import nn

from genvc.errors import InputError, ModelError
from genvc.training.checkpoint import fsync_dir, fsync_tree, read_state, resolve_checkpoint
from genvc.training.config import TrainConfig

WEIGHTS_NAME = "model.safetensors"


def build_model(config: TrainConfig) -> nn.Module:
    """The model of `config.model` (or, when that is empty, of `init_from`'s config.json), with `init_from`'s
    weights loaded where names and shapes match (so a stage can start from a previous stage's export)."""
    try:
        module = importlib.import_module(config.model_module)
        model_config_cls, build = module.ModelConfig, module.build_model
    except (ImportError, AttributeError) as exc:
        raise ModelError(f"model_module {config.model_module!r} does not provide ModelConfig/build_model: {exc}") from None
    model_dict = dict(config.model)
    if not model_dict and config.init_from:
        model_dict = _read_json(Path(config.init_from) / "config.json")
        model_dict.pop("kind", None)  # save_pretrained's model kind, not a config field
    try:
        model = build(model_config_cls.from_dict(model_dict))
    except (TypeError, ValueError, KeyError) as exc:  # a bad `model:` section
        raise InputError(f"invalid model config: {exc}") from None
    if config.init_from:
        _load_matching(model, Path(config.init_from) / "model.safetensors")
    return model


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from None


def _load_matching(model: nn.Module, weights: Path) -> None:
    from safetensors.torch import load_file

    if not weights.is_file():
        raise ModelError(f"init_from: no model.safetensors in {weights.parent}")
    own = model.state_dict()
    loaded = {k: v for k, v in load_file(str(weights)).items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(loaded, strict=False)
    print(f"init_from: loaded {len(loaded)}/{len(own)} tensors from {weights.parent}")


def select_trainable(model: nn.Module, stage: str | None) -> list[nn.Parameter]:
    """The parameters this stage trains (`model.trainable_parameters(stage)` where the model defines it); all others
    are frozen, so DDP does not wait for gradients that never come and the optimizer holds no state for them."""
    if hasattr(model, "trainable_parameters"):
        chosen = model.trainable_parameters() if stage is None else model.trainable_parameters(stage)
        ids = {id(p) for p in chosen}
        for p in model.parameters():
            p.requires_grad_(id(p) in ids)
    for p in model.parameters():
        if p.numel() == 0:  # e.g. Multi-C role embeddings of a model without modalities: never in the graph, and
            p.requires_grad_(False)  # DDP would wait for its gradient forever ("did not receive grad")
    return [p for p in model.parameters() if p.requires_grad]


def checkpoint_weights(model: nn.Module, state: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """The weights a checkpoint holds: `model.saved_state_dict()` where defined (it leaves out frozen pretrained
    weights that the config names, e.g. a 14B Wan transformer under LoRA), else the whole state dict. `state`: a
    full state dict gathered elsewhere (FSDP), filtered the same way (`model._is_saved`)."""
    if state is not None:
        keep = getattr(model, "_is_saved", lambda key: True)
        return {k: v.detach().cpu().contiguous() for k, v in state.items() if keep(k)}
    if hasattr(model, "saved_state_dict"):
        return model.saved_state_dict()
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def save_checkpoint_weights(model: nn.Module, path: Path, state: dict[str, torch.Tensor] | None = None) -> None:
    from safetensors.torch import save_file

    save_file(checkpoint_weights(model, state), str(path))


def load_checkpoint_weights(model: nn.Module, path: Path) -> None:
    """Load what `save_checkpoint_weights` wrote; every tensor the checkpoint should hold must be there."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelError(f"checkpoint {path.parent} has no {path.name}")
    state = load_file(str(path))
    expected = set(checkpoint_weights(model))
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise ModelError(f"checkpoint {path.parent} does not match the model config "
                         f"(missing {missing[:3]}, unexpected {extra[:3]})")
    try:
        model.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ModelError(f"checkpoint {path.parent} does not match the model config: {exc}") from None


class LossModule(nn.Module):
    """Routes `forward` to `model.training_losses`, so DDP gradient sync and accelerate's autocast (both hooked
    on `forward`) apply to the loss computation. `criterion`: the restorer's perceptual criterion (it holds the
    discriminator, trained by the same optimizer), passed on to the model."""

    def __init__(self, model: nn.Module, stage: str | None, criterion: nn.Module | None = None) -> None:
        super().__init__()
        self.model = model
        self.stage = stage
        self.criterion = criterion

    def forward(self, batch: dict) -> dict:
        if self.stage is None:
            return self.model.training_losses(batch)
        if self.criterion is not None:
            return self.model.training_losses(batch, stage=self.stage, criterion=self.criterion)
        return self.model.training_losses(batch, stage=self.stage)


def export_model(model: nn.Module, target: str | os.PathLike, state: dict[str, torch.Tensor] | None = None) -> Path:
    """`model.save_pretrained` into `target`, atomically (replacing an older export only once complete). `state`:
    a full state dict gathered under FSDP, loaded into the model first (its own parameters are shards then)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the export is an ordinary folder
    try:
        if state is not None:
            model = _unsharded_copy(model, state)
        model.save_pretrained(tmp)
        fsync_tree(tmp)
        if target.exists():
            trash = target.with_name(f".{target.name}.trash")
            shutil.rmtree(trash, ignore_errors=True)
            os.replace(target, trash)
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _unsharded_copy(model: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """A fresh model of the same config holding `state`'s saved weights (the frozen pretrained ones come from
    their own files, as when the export is loaded)."""
    copy = type(model)(model.config)
    copy.load_state_dict(checkpoint_weights(model, state), strict=False)
    return copy


def load_checkpoint_model(checkpoint: str | os.PathLike) -> tuple[nn.Module, Path]:
    """The model saved in a checkpoint (or in the latest checkpoint of an output folder)."""
    checkpoint = resolve_checkpoint(checkpoint)
    config = TrainConfig.from_dict(read_state(checkpoint)["config"])
    config.init_from = None  # the checkpoint holds every weight that is not pretrained
    model = build_model(config)
    load_checkpoint_weights(model, checkpoint / WEIGHTS_NAME)
    return model, checkpoint


@torch.no_grad()
def export_checkpoint(checkpoint: str | os.PathLike, target: str | os.PathLike) -> Path:
    model, _ = load_checkpoint_model(checkpoint)
    return export_model(model, target)
