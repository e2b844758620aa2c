"""Train the sketch refiner: (upsampled decoded sketch crop, original crop) pairs, L1 loss, Adam + cosine.

The pairs are made the way the decoder will see them: windows of frames are downscaled, coded with vvenc at a
random scale and QP (`genvc.inter`), decoded and upsampled. Sample videos are cut so that no evaluation frame
is trained on (the bench uses the first 45–90 frames of bikes and bigbuckbunny, and the start of cuts).
The run checkpoints atomically and resumes from its latest checkpoint; it ends with `save_pretrained`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from genvc.errors import InputError
from genvc.inter.sketch import decode_sketch, encode_sketch_at
from genvc.models.refiner import RefinerConfig, SketchRefiner
from genvc.utils.atomic import atomic_path

#: sample name -> frames used for training (python slice bounds); every evaluation frame lies outside them.
TRAIN_FRAMES = {"bikes": (90, 250), "bigbuckbunny": (90, 132), "carphone": (0, 120), "cuts": (2000, 5301)}
VALIDATION_FRAMES = {"cuts": (1000, 2000)}


@dataclass
class RefinerTrainConfig:
    output_dir: str = "runs/refiner"
    steps: int = 6000
    batch: int = 32
    crop: int = 64
    lr: float = 1e-3
    window: int = 9  # frames per coded window (a short GOP, so I and P frames are both seen)
    windows_per_video: int = 36
    crops_per_frame: int = 12
    qp_range: tuple[int, int] = (30, 55)
    scales: tuple[int, ...] = (1, 2, 2, 2, 3, 4)  # drawn uniformly: 2 is what the encoder picks most
    checkpoint_every: int = 500
    seed: int = 0
    model: dict = field(default_factory=dict)  # RefinerConfig fields


def _windows(frames: np.ndarray, count: int, length: int, rng: np.random.Generator) -> list[np.ndarray]:
    length = min(length, len(frames))
    starts = rng.integers(0, len(frames) - length + 1, size=count)
    return [frames[s:s + length] for s in starts]


def _code_window(window: np.ndarray, scale: int, qp: int) -> np.ndarray:
    h, w = window.shape[1:3]
    return decode_sketch(encode_sketch_at(window, scale, qp, 25.0).data, w, h, scale, len(window))


def make_pairs(videos: dict[str, np.ndarray], config: RefinerTrainConfig, rng: np.random.Generator,
               windows_per_video: int) -> dict[str, np.ndarray]:
    """Coded/original crop pairs: inputs and targets N×crop×crop×3 uint8, scales N."""
    inputs, targets, scales = [], [], []
    jobs = [(name, win) for name, frames in videos.items()
            for win in _windows(frames, windows_per_video, config.window, rng)]
    c = config.crop
    for name, window in tqdm(jobs, desc="coding windows", unit="window"):
        scale = int(rng.choice(config.scales))
        lo, hi = config.qp_range
        qp = int(rng.integers(lo, hi + 1)) if scale > 1 else int(rng.integers(lo + 4, min(hi, 48) + 1))  # full size: QP ≤ 48
        decoded = _code_window(window, scale, qp)
        h, w = window.shape[1:3]
        if h < c or w < c:
            raise InputError(f"{name} frames ({w}x{h}) are smaller than the crop ({c})")
        for original, coded in zip(window, decoded):
            for _ in range(config.crops_per_frame):
                y, x = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
                inputs.append(coded[y:y + c, x:x + c])
                targets.append(original[y:y + c, x:x + c])
                scales.append(scale)
    return {"inputs": np.stack(inputs), "targets": np.stack(targets), "scales": np.asarray(scales, np.float32)}


def load_sample_frames(ranges: dict[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    from genvc.io import read_video
    from genvc.samples import sample_path

    return {name: read_video(sample_path(name), max_frames=stop).frames[start:stop]
            for name, (start, stop) in ranges.items()}


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = torch.mean((a.clamp(0, 1) - b) ** 2).item()
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def _save_checkpoint(path: Path, model: SketchRefiner, optimizer, step: int, generator: torch.Generator) -> None:
    with atomic_path(path) as tmp:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                    "generator": generator.get_state()}, tmp)


def train_refiner(config: RefinerTrainConfig, train_videos: dict[str, np.ndarray] | None = None,
                  val_videos: dict[str, np.ndarray] | None = None, progress: bool = True) -> SketchRefiner:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)

    data_path = out / "pairs.npz"
    if data_path.is_file():  # coding the windows is the slow part: a resumed run reuses them
        with np.load(data_path) as f:
            train, val = ({k: f[f"{part}_{k}"] for k in ("inputs", "targets", "scales")} for part in ("train", "val"))
    else:
        train = make_pairs(train_videos or load_sample_frames(TRAIN_FRAMES), config, rng, config.windows_per_video)
        val = make_pairs(val_videos or load_sample_frames(VALIDATION_FRAMES), config, rng, 4)
        with atomic_path(data_path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{f"train_{k}": v for k, v in train.items()}, **{f"val_{k}": v for k, v in val.items()})

    model = SketchRefiner(RefinerConfig(**config.model))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    ckpt, step = out / "checkpoint.pt", 0
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        step = state["step"]

    val_in, val_target = _to_tensor(val["inputs"]), _to_tensor(val["targets"])
    val_scales = torch.from_numpy(val["scales"])

    def validate() -> dict:
        model.eval()
        with torch.no_grad():
            refined = torch.cat([model(val_in[i:i + 256], val_scales[i:i + 256]) for i in range(0, len(val_in), 256)])
        model.train()
        return {"val_psnr_sketch": _psnr(val_in, val_target), "val_psnr_refined": _psnr(refined, val_target)}

    log = open(out / "metrics.jsonl", "a")
    n = len(train["inputs"])
    bar = tqdm(total=config.steps, initial=step, desc="train refiner", unit="step", disable=not progress)
    start, running = time.perf_counter(), []
    try:
        while step < config.steps:
            lr = config.lr * 0.5 * (1 + math.cos(math.pi * step / config.steps))
            for group in optimizer.param_groups:
                group["lr"] = lr
            idx = torch.randint(0, n, (config.batch,), generator=generator).numpy()
            x, y = _to_tensor(train["inputs"][idx]), _to_tensor(train["targets"][idx])
            if torch.rand(1, generator=generator).item() < 0.5:  # flips: cheap, label-preserving augmentation
                x, y = x.flip(3), y.flip(3)
            loss = torch.nn.functional.l1_loss(model(x, torch.from_numpy(train["scales"][idx])), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            running.append(loss.item())
            bar.update()
            if step % config.checkpoint_every == 0 or step == config.steps:
                record = {"step": step, "loss": float(np.mean(running)), "lr": lr,
                          "seconds": time.perf_counter() - start, **validate()}
                running = []
                log.write(json.dumps(record) + "\n")
                log.flush()
                bar.set_postfix(loss=f"{record['loss']:.4f}", val=f"{record['val_psnr_refined']:.2f}dB")
                _save_checkpoint(ckpt, model, optimizer, step, generator)
    except KeyboardInterrupt:
        _save_checkpoint(ckpt, model, optimizer, step, generator)
        raise
    finally:
        bar.close()
        log.close()
    model.eval()
    model.save_pretrained(out / "model")
    return model
