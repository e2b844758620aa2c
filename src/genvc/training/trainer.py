"""The training loop: accelerate (CPU, one or many GPUs/nodes, mixed precision), resumable and interruptible.

Run it with ``genvc train --config FILE`` or, on several GPUs/nodes, ``accelerate launch -m genvc.cli train
--config FILE``; the code is the same.
"""

from __future__ import annotations

import math
import signal
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from genvc.errors import GenvcError, InputError
from genvc.training import checkpoint as ckpt
from genvc.training.config import TrainConfig
from genvc.training.data import ClipDataset, ResumableBatchSampler, ValidationClips, split_ranges
from genvc.training.frame_cache import build_frame_cache, find_videos
from genvc.training.metrics import MetricsLog
from genvc.training.model_io import (WEIGHTS_NAME, LossModule, build_model, export_model, load_checkpoint_weights,
                                     save_checkpoint_weights, select_trainable)
from genvc.training.sketch_cache import build_sketch_cache
from genvc.utils.cpu import native_bf16

PLOT_INTERVAL_S = 60
DISCRIMINATOR_NAME = "discriminator.safetensors"


@dataclass
class TrainResult:
    step: int
    interrupted: bool
    checkpoint: Path | None
    model_dir: Path | None


def lr_lambda(config: TrainConfig):
    warmup, total, kind = config.optim.warmup_steps, config.schedule.max_steps, config.optim.lr_schedule

    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if kind == "cosine":
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return 0.5 * (1 + math.cos(math.pi * progress))
        return 1.0

    return factor


def psnr(reference: torch.Tensor, reconstruction: torch.Tensor) -> float:
    """PSNR in dB of videos in [-1, 1] (peak 1 after mapping to [0, 1])."""
    mse = ((reference.float() - reconstruction.float().clamp(-1, 1)) / 2).pow(2).mean().item()
    return 10 * math.log10(1 / max(mse, 1e-12))


class _StopFlag:
    """First Ctrl-C / SIGTERM asks the loop to checkpoint and stop at the next step boundary; a second Ctrl-C
    interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = {}

    def __enter__(self) -> "_StopFlag":
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _ignore_sigint(_worker_id: int) -> None:
    # Data workers share the terminal's process group: let only the main process react to Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Trainer:
    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        from accelerate import Accelerator
        from accelerate.utils import set_seed

        self.config = config
        try:
            self.accelerator = Accelerator(mixed_precision=config.mixed_precision,
                                           gradient_accumulation_steps=config.schedule.grad_accum)
        except ValueError as exc:  # e.g. fp16 without a GPU
            raise InputError(f"mixed_precision={config.mixed_precision!r}: {exc}") from None
        acc = self.accelerator
        if config.mixed_precision == "bf16" and acc.device.type == "cpu" and not native_bf16():
            acc.print("warning: mixed_precision bf16 on a CPU without native bf16 (AVX-512 BF16 or AMX) is emulated "
                      "and slower than fp32 (6x on a restorer step); set mixed_precision: \"no\" here")
        self.output_dir = Path(config.output_dir)
        self.log = MetricsLog(self.output_dir / "metrics.jsonl")
        self.resume_from = self._find_resume(resume)

        self.train_data, self.val_data = self._datasets()
        set_seed(config.schedule.seed)  # identical initial weights on every process and every (re)start
        model = build_model(config)
        set_seed(config.schedule.seed + acc.process_index)  # distinct noise per process

        params = select_trainable(model, config.stage)
        if not params:
            raise InputError("the model has no trainable parameters for this stage")
        self.criterion = None
        groups = [{"params": params}]
        if config.losses.active:
            from genvc.training.perceptual import PerceptualCriterion

            self.criterion = PerceptualCriterion(config.losses)
            groups += self.criterion.parameter_groups()
        optimizer = torch.optim.AdamW(groups, lr=config.optim.lr, betas=config.optim.betas,
                                      weight_decay=config.optim.weight_decay)
        # Not passed to prepare(): accelerate would step it once per process per step.
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(config))
        self.module, self.optimizer = acc.prepare(LossModule(model, config.stage, self.criterion), optimizer)
        acc.register_for_checkpointing(self.scheduler)
        self.model = model
        # Model weights go through our own (smaller) file instead of accelerate's full state dict.
        acc.register_save_state_pre_hook(self._save_weights_hook)
        acc.register_load_state_pre_hook(self._load_weights_hook)
        self.step, self.samples_seen = 0, 0
        self._last_plot = -math.inf
        if self.resume_from is not None:
            acc.load_state(str(self.resume_from))
            state = ckpt.read_state(self.resume_from)
            self.step, self.samples_seen = int(state["step"]), int(state["samples_seen"])
            acc.print(f"resuming from {self.resume_from} (step {self.step})")

    @property
    def _fsdp(self) -> bool:
        from accelerate.utils import DistributedType

        return self.accelerator.distributed_type == DistributedType.FSDP

    def _full_state(self) -> dict | None:
        """Under FSDP the parameters are sharded: the gathered state dict (a collective, every process calls it;
        accelerate fills it on the main process), with the LossModule's "model." prefix removed."""
        if not self._fsdp:
            return None
        state = self.accelerator.get_state_dict(self.module)
        return {k.removeprefix("model."): v for k, v in (state or {}).items() if k.startswith("model.")}

    def _save_weights_hook(self, models, weights, output_dir) -> None:
        weights.clear()
        state = self._full_state()
        if self.accelerator.is_main_process:
            save_checkpoint_weights(self.model, Path(output_dir) / WEIGHTS_NAME, state)
            if self._discriminator is not None:  # training-only: in the checkpoint, never in the export
                save_checkpoint_weights(self._discriminator, Path(output_dir) / DISCRIMINATOR_NAME)

    def _load_weights_hook(self, models, input_dir) -> None:
        models.clear()
        if self._fsdp:  # accelerate's FSDP loader has already restored the sharded model from its own files
            return
        load_checkpoint_weights(self.model, Path(input_dir) / WEIGHTS_NAME)
        if self._discriminator is not None:
            load_checkpoint_weights(self._discriminator, Path(input_dir) / DISCRIMINATOR_NAME)

    @property
    def _discriminator(self) -> torch.nn.Module | None:
        return None if self.criterion is None else self.criterion.discriminator

    def _find_resume(self, resume: bool) -> Path | None:
        acc = self.accelerator
        if acc.is_main_process:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            ckpt.remove_stale(self.output_dir)
        acc.wait_for_everyone()
        latest = ckpt.latest_checkpoint(self.output_dir)
        if latest is not None and not resume:
            raise InputError(f"{self.output_dir} already holds checkpoints ({latest.name}): pass --resume to "
                             "continue that run, or set output_dir to a new folder")
        if resume and latest is None:
            acc.print(f"--resume: no checkpoint in {self.output_dir} yet; starting from step 0")
        if acc.is_main_process:
            if latest is None:
                self.log.reset()
            else:
                self.log.truncate_after(ckpt.read_state(latest)["step"])
        return latest

    def _datasets(self) -> tuple[ClipDataset, ValidationClips]:
        acc, data = self.accelerator, self.config.data
        videos = find_videos(data.folder, data.glob, data.exclude)
        if data.cache:
            if acc.is_local_main_process:  # decode once per node; the other processes wait, then memory-map it
                build_frame_cache(videos, data.resize, self.config.cache_dir)
            acc.wait_for_everyone()
            sources = build_frame_cache(videos, data.resize, self.config.cache_dir)
        else:
            sources = videos
        sketches = None
        if data.sketches:  # coded once per node, like the frame cache
            if acc.is_local_main_process:
                build_sketch_cache(sources, data.sketches)
            acc.wait_for_everyone()
            sketches = build_sketch_cache(sources, data.sketches)
        names = [str(v.relative_to(data.folder)) for v in videos]
        train, val = split_ranges(sources, names, data)
        train_set = ClipDataset(train, data, self.config.schedule.seed, sketches)
        train_set[(0, 0)]  # fail now (crop too large, bad conditions hook), not in a worker
        return train_set, ValidationClips(val, data, sketches)

    def _loader(self) -> torch.utils.data.DataLoader:
        acc, s = self.accelerator, self.config.schedule
        sampler = ResumableBatchSampler(len(self.train_data), s.batch_size, s.seed, self.samples_seen,
                                        acc.process_index, acc.num_processes)
        workers = self.config.data.num_workers
        return torch.utils.data.DataLoader(
            self.train_data, batch_sampler=sampler, num_workers=workers, pin_memory=acc.device.type == "cuda",
            worker_init_fn=_ignore_sigint if workers else None,
            # Workers' base seed comes from this generator, not from the global RNG that checkpoints restore.
            generator=torch.Generator(), persistent_workers=False, prefetch_factor=2 if workers else None)

    def train(self) -> TrainResult:
        acc, s = self.accelerator, self.config.schedule
        batches = iter(self._loader())
        window: dict[str, list[float]] = defaultdict(list)
        last_saved = self.resume_from if self.resume_from else None
        bar = tqdm(total=s.max_steps, initial=self.step, desc="training", unit="step",
                   disable=None if acc.is_local_main_process else True, dynamic_ncols=True)
        if self.step == 0 and s.val_every:
            self._validate()  # the starting point, so a log shows what training gained
        self.module.train()
        with _StopFlag() as stop:
            while self.step < s.max_steps and not self._should_stop(stop):
                try:
                    values = self._optimizer_step(batches)
                except (RuntimeError, StopIteration):
                    if stop.requested:  # a data worker died of the same Ctrl-C
                        break
                    raise
                self.step += 1
                self.samples_seen += s.batch_size * s.grad_accum
                for key, value in values.items():
                    window[key].append(value)
                bar.update(1)
                bar.set_postfix({k: f"{v:.4g}" for k, v in values.items() if k != "grad_norm"}, refresh=False)
                if self.step % s.log_every == 0 or self.step == s.max_steps:
                    self._log_train(window)
                    window.clear()
                if self.step % s.val_every == 0 or self.step == s.max_steps:
                    self._validate()
                if self.step % s.ckpt_every == 0 or self.step == s.max_steps:
                    last_saved = self._save()
            interrupted = self.step < s.max_steps
        bar.close()
        if interrupted:
            if last_saved is None or last_saved.name != ckpt.final_dir(self.output_dir, self.step).name:
                last_saved = self._save()
            acc.print(f"interrupted at step {self.step}: checkpoint {last_saved}; continue with --resume")
            return TrainResult(self.step, True, last_saved, None)
        model_dir = None
        state = self._full_state()
        if acc.is_main_process:
            model_dir = export_model(self.model, self.output_dir / "model", state)
            self._plot()
            acc.print(f"trained {self.step} steps; model saved to {model_dir}")
        acc.wait_for_everyone()
        return TrainResult(self.step, False, last_saved, model_dir)

    def _should_stop(self, stop: _StopFlag) -> bool:
        if self.accelerator.num_processes == 1:
            return stop.requested
        # Every process must stop at the same step, or the next collective would hang.
        flag = torch.tensor([float(stop.requested)], device=self.accelerator.device)
        return bool(self.accelerator.reduce(flag, "sum").item() > 0)

    def _optimizer_step(self, batches) -> dict[str, float]:
        acc, clip = self.accelerator, self.config.optim.grad_clip
        totals: dict[str, float] = defaultdict(float)
        for _ in range(self.config.schedule.grad_accum):
            batch = _to_device(next(batches), acc.device)
            with acc.accumulate(self.module):
                losses = self.module(batch)
                loss = losses["loss"]
                if not torch.isfinite(loss):
                    raise GenvcError(f"training loss is {loss.item()} at step {self.step + 1}; "
                                     "lower optim.lr, set optim.grad_clip, or use bf16 instead of fp16")
                acc.backward(loss)
                if acc.sync_gradients and clip:
                    totals["grad_norm"] = float(acc.clip_grad_norm_(self.module.parameters(), clip))
                self.optimizer.step()
                if acc.sync_gradients:
                    self.scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
            for key, value in losses.items():
                if torch.is_tensor(value) and value.numel() == 1:
                    totals[key] += value.detach().float().item() / self.config.schedule.grad_accum
        return dict(totals)

    def _log_train(self, window: dict[str, list[float]]) -> None:
        acc = self.accelerator
        keys = sorted(window)
        means = torch.tensor([float(np.mean(window[k])) for k in keys], device=acc.device)
        if acc.num_processes > 1:
            means = acc.reduce(means, "mean")
        if acc.is_main_process:
            record = {"step": self.step, "split": "train", "lr": self.scheduler.get_last_lr()[0]}
            record.update({k: float(v) for k, v in zip(keys, means.tolist())})
            self.log.append(record)

    @torch.no_grad()
    def _validate(self) -> None:
        acc = self.accelerator
        if self._fsdp:  # reconstruct() on the main process alone would wait forever for the other shards
            if self.step == 0:
                acc.print("FSDP: in-loop validation is skipped; evaluate the exported model instead")
            return
        if acc.is_main_process and len(self.val_data):
            self.model.eval()
            # A fixed seed, outside the training RNG stream: validation never changes what training sees.
            with torch.random.fork_rng(devices=[acc.device] if acc.device.type == "cuda" else []):
                torch.manual_seed(self.config.schedule.seed)
                values, perceptual = [], []
                judge = _validation_lpips(self.config.data.crop)
                for i in range(len(self.val_data)):
                    item = _to_device(torch.utils.data.default_collate([self.val_data[i]]), acc.device)
                    with acc.autocast():
                        out = self.model.reconstruct(item["video"], conditions=item.get("conditions"),
                                                     stage=self.config.stage)
                    values.append(psnr(item["video"], out))
                    if judge is not None:
                        frames = lambda v: v.float().transpose(1, 2).flatten(0, 1).cpu()  # noqa: E731
                        perceptual.append(float(judge(frames(item["video"]), frames(out).clamp(-1, 1)).mean()))
            self.model.train()
            record = {"step": self.step, "split": "val", "psnr": float(np.mean(values))}
            if perceptual:
                record["lpips"] = float(np.mean(perceptual))
            self.log.append(record)
            if time.monotonic() - self._last_plot > PLOT_INTERVAL_S:  # plotting costs ~1 s: not every time
                self._plot()
        acc.wait_for_everyone()

    def _plot(self) -> None:
        self.log.plot(self.output_dir / "loss_curve.png")
        self._last_plot = time.monotonic()

    def _save(self) -> Path:
        state = {"samples_seen": self.samples_seen, "config": self.config.to_dict()}
        return ckpt.save_checkpoint(self.accelerator, self.output_dir, self.step, state,
                                    self.config.schedule.keep_checkpoints)


def _validation_lpips(crop: tuple[int, int]):
    """LPIPS (AlexNet) for the validation log where its weights are installed and the validation crops are large
    enough for AlexNet; None otherwise."""
    from genvc.errors import ModelError
    from genvc.metrics.lpips import MIN_SIDE, load_lpips

    if min(crop) < MIN_SIDE:
        return None
    try:
        return load_lpips("alex")
    except ModelError:
        return None


def _to_device(batch, device):
    if torch.is_tensor(batch):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch
