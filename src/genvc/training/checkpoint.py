"""Atomic training checkpoints: a checkpoint folder exists only once it is complete.

Each checkpoint is written into a hidden temporary folder, every file is fsynced, and the folder is renamed to
``checkpoints/step-XXXXXXXX``; a kill -9 at any moment leaves either the previous checkpoints or a stale temporary
folder (removed at the next start), never a half-written checkpoint. Contents: what `accelerator.save_state`
writes (model safetensors, optimizer, scheduler, grad scaler, python/numpy/torch RNG states of every process)
plus ``trainer_state.json`` (step, samples consumed by the data sampler, the full config).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from genvc.errors import InputError

STATE_FILE = "trainer_state.json"
_NAME = re.compile(r"^step-(\d{8,})$")


def checkpoint_root(output_dir: str | os.PathLike) -> Path:
    return Path(output_dir) / "checkpoints"


def list_checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """Complete checkpoints, oldest first."""
    root = checkpoint_root(output_dir)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _NAME.match(p.name)) and (p / STATE_FILE).is_file()]
    return [p for _, p in sorted(found)]


def latest_checkpoint(output_dir: str | os.PathLike) -> Path | None:
    checkpoints = list_checkpoints(output_dir)
    return checkpoints[-1] if checkpoints else None


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A checkpoint folder, or a run's output folder (→ its latest checkpoint)."""
    path = Path(path)
    if (path / STATE_FILE).is_file():
        return path
    latest = latest_checkpoint(path)
    if latest is None:
        raise InputError(f"{path} is neither a checkpoint nor a training output folder with checkpoints")
    return latest


def remove_stale(output_dir: str | os.PathLike) -> None:
    """Delete temporary folders left by a run killed while saving or pruning."""
    root = checkpoint_root(output_dir)
    if root.is_dir():
        for p in root.iterdir():
            if p.name.startswith((".tmp-", ".trash-")):
                shutil.rmtree(p, ignore_errors=True)


def temp_dir(output_dir: str | os.PathLike, step: int) -> Path:
    return checkpoint_root(output_dir) / f".tmp-step-{step:08d}"


def final_dir(output_dir: str | os.PathLike, step: int) -> Path:
    return checkpoint_root(output_dir) / f"step-{step:08d}"


def save_checkpoint(accelerator, output_dir: str | os.PathLike, step: int, state: dict, keep: int) -> Path:
    """Save on all processes (each writes its own RNG state), publish atomically from the main process."""
    tmp, final = temp_dir(output_dir, step), final_dir(output_dir, step)
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / STATE_FILE).write_text(json.dumps({**state, "step": step}, indent=2))
        fsync_tree(tmp)
        if final.exists():  # same step saved before (e.g. Ctrl-C right after a periodic save)
            _discard(final)
        os.replace(tmp, final)
        fsync_dir(final.parent)
        for old in list_checkpoints(output_dir)[:-keep]:
            _discard(old)
    accelerator.wait_for_everyone()
    return final


def read_state(checkpoint: Path) -> dict:
    try:
        return json.loads((checkpoint / STATE_FILE).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read checkpoint {checkpoint}: {exc}") from None


def _discard(path: Path) -> None:
    """Rename first so that a kill during the slow delete cannot leave a half-deleted 'complete' checkpoint."""
    trash = path.with_name(f".trash-{path.name}")
    shutil.rmtree(trash, ignore_errors=True)
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems do not support fsync on directories
        pass
    finally:
        os.close(fd)
