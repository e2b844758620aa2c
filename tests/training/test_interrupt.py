"""A run killed with SIGKILL at an arbitrary moment, or stopped with Ctrl-C, resumes from an intact checkpoint."""

import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from safetensors.torch import load_file

from genvc.training.checkpoint import latest_checkpoint, list_checkpoints, read_state
from genvc.training.trainer import Trainer
from train_helpers import ROOT, override_args, subprocess_env, tiny_config, train_records

KEYS = {"schedule.max_steps": 100000, "schedule.ckpt_every": 1, "schedule.val_every": 100000,
        "schedule.keep_checkpoints": 2, "data.num_workers": 1}


def _start(video_folder: Path, out: Path, resume: bool) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "genvc.cli", "train", "--config", str(ROOT / "configs" / "tiny.yaml")]
    for arg in override_args(video_folder, out, **KEYS):
        cmd += ["--set", arg]
    return subprocess.Popen(cmd + (["--resume"] if resume else []), env=subprocess_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as at a terminal


def _wait_for_step(proc: subprocess.Popen, out: Path, step: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = latest_checkpoint(out)
        if latest is not None and read_state(latest)["step"] >= step:
            return
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no checkpoint at step {step} within {timeout} s")


def test_kill9_then_ctrl_c_then_resume(video_folder, tmp_path):
    out = tmp_path / "run"
    proc = _start(video_folder, out, resume=False)
    _wait_for_step(proc, out, 2)
    time.sleep(random.uniform(0, 0.3))  # checkpoints are written every step: this often lands mid-save
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = read_state(latest_checkpoint(out))["step"]
    for checkpoint in list_checkpoints(out):  # every published checkpoint is complete
        assert load_file(str(checkpoint / "model.safetensors"))

    proc = _start(video_folder, out, resume=True)
    _wait_for_step(proc, out, killed_at + 2)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert f"resuming from {out / 'checkpoints' / f'step-{killed_at:08d}'}" in output
    stopped_at = int(re.search(r"interrupted at step (\d+)", output).group(1))
    assert read_state(latest_checkpoint(out))["step"] == stopped_at  # Ctrl-C saved the current step
    assert not [p for p in (out / "checkpoints").iterdir() if p.name.startswith(".")]
    assert len(list_checkpoints(out)) <= 2  # keep_checkpoints

    config = tiny_config(video_folder, out, **{**KEYS, "schedule.max_steps": stopped_at + 2, "data.num_workers": 0})
    result = Trainer(config, resume=True).train()
    assert result.step == stopped_at + 2 and not result.interrupted
    steps = [r["step"] for r in train_records(out)]
    assert steps == list(range(1, stopped_at + 3))  # steps logged after the kill's checkpoint were dropped once
