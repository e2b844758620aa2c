"""Two CPU processes (torchrun + gloo): the same code path as `accelerate launch` on several GPUs."""

import shutil
import subprocess
import sys

import pytest

from genvc.training.checkpoint import latest_checkpoint
from train_helpers import ROOT, override_args, subprocess_env, train_records


@pytest.mark.slow
def test_two_processes_train_checkpoint_and_resume(video_folder, tmp_path):
    if shutil.which("torchrun") is None:
        pytest.skip("torchrun not installed")
    env = {**subprocess_env(), "ACCELERATE_USE_CPU": "true"}

    def run(max_steps: int, resume: bool) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "genvc.cli", "train",
               "--config", str(ROOT / "configs" / "tiny.yaml")]
        keys = {"schedule.max_steps": max_steps, "schedule.ckpt_every": 2, "schedule.val_every": 2}
        for arg in override_args(video_folder, tmp_path, **keys):
            cmd += ["--set", arg]
        return subprocess.run(cmd + (["--resume"] if resume else []), env=env, capture_output=True, text=True,
                              timeout=300)

    first = run(4, resume=False)
    assert first.returncode == 0, first.stderr[-3000:]
    checkpoint = latest_checkpoint(tmp_path)
    assert {p.name for p in checkpoint.glob("random_states_*.pkl")} == {"random_states_0.pkl", "random_states_1.pkl"}
    second = run(6, resume=True)
    assert second.returncode == 0, second.stderr[-3000:]
    assert [r["step"] for r in train_records(tmp_path)] == [1, 2, 3, 4, 5, 6]
    assert (tmp_path / "model" / "model.safetensors").is_file()
