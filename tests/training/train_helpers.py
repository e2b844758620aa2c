"""Helpers shared by the training tests."""

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def tiny_config(video_folder: Path, output_dir: Path, **overrides):
    """configs/tiny.yaml with the tiny test model; `overrides` use dotted keys, e.g. {"schedule.max_steps": 4}."""
    from genvc.training.config import TrainConfig, apply_overrides, read_config_file

    return TrainConfig.from_dict(apply_overrides(read_config_file(ROOT / "configs" / "tiny.yaml"),
                                                 override_args(video_folder, output_dir, **overrides)))


def override_args(video_folder: Path, output_dir: Path, **overrides) -> list[str]:
    base = {"model_module": "tiny_codec", "model": {"channels": 4, "latent_channels": 2},
            "output_dir": str(output_dir), "data.folder": str(video_folder), "data.resize": 40,
            "data.crop": [32, 32], "data.clip_frames": 5, "schedule.log_every": 1}
    base.update(overrides)
    return [f"{k}={json.dumps(v)}" for k, v in base.items()]


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(HERE), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


def train_records(output_dir: Path) -> list[dict]:
    lines = (Path(output_dir) / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["split"] == "train"]


def negative_conditions(frames):
    """A `data.conditions` hook for tests: one modality, the negative image."""
    return {"negative": 255 - frames}


def sketch_echo(frames, sketch=None, scale=None, qp=None):
    """A conditions hook that hands back the sketch the dataset gave it (or nothing), its scale and QP."""
    import numpy as np

    if sketch is None:
        return {"prediction": frames, "scale": np.zeros(1, np.float32), "qp": np.zeros(1, np.float32)}
    return {"prediction": sketch, "scale": np.full(1, scale, np.float32), "qp": np.full(1, qp, np.float32)}


def whole_frames_echo(frames, full_frames=None, crop_box=(0, 0)):
    """A conditions hook that asks for the clip's whole frames: hands back the whole frames cut at `crop_box`."""
    top, left = crop_box
    return {"recut": full_frames[:, top:top + frames.shape[1], left:left + frames.shape[2]]}


def blurred_sketch(frames):
    """A conditions hook for restorer tests: P is the clip blurred, as if a coded 1/2-size sketch at QP 40."""
    import cv2
    import numpy as np

    from genvc.methods import receiver

    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 1.5) for f in frames])
    return receiver.from_sketch(blurred, 2.0, 40)
