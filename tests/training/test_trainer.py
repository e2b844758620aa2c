import json

import pytest
import torch
from safetensors.torch import load_file

from genvc.cli import main
from genvc.errors import InputError
from genvc.training.checkpoint import list_checkpoints
from genvc.training.trainer import Trainer
from tiny_codec import GenvcModel
from train_helpers import tiny_config, train_records

STEPS = 6


@pytest.fixture(scope="module")
def full_run(video_folder, tmp_path_factory):
    """An uninterrupted run of STEPS steps (with a data worker process)."""
    out = tmp_path_factory.mktemp("full")
    config = tiny_config(video_folder, out, **{"schedule.max_steps": STEPS, "schedule.ckpt_every": 3,
                                               "schedule.val_every": 3, "data.num_workers": 1})
    result = Trainer(config).train()
    return out, result


def test_run_writes_log_plot_checkpoints_and_model(full_run):
    out, result = full_run
    assert result.step == STEPS and not result.interrupted
    records = train_records(out)
    assert [r["step"] for r in records] == list(range(1, STEPS + 1))
    assert {"loss", "mse", "bpp", "rate_bits", "lr", "grad_norm"} <= set(records[0])
    val = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if '"val"' in line]
    assert [r["step"] for r in val] == [0, 3, 6] and all(5 < r["psnr"] < 60 for r in val)  # 0: the start
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in list_checkpoints(out)] == ["step-00000003", "step-00000006"]
    model = GenvcModel.from_pretrained(out / "model")
    assert model.weights_hash() == GenvcModel.from_pretrained(out / "model").weights_hash()


def test_resume_reproduces_the_uninterrupted_run(full_run, video_folder, tmp_path):
    out, _ = full_run
    keys = {"schedule.ckpt_every": 3, "schedule.val_every": 3, "data.num_workers": 0}
    first = Trainer(tiny_config(video_folder, tmp_path, **keys, **{"schedule.max_steps": 3})).train()
    assert first.step == 3
    with pytest.raises(InputError, match="--resume"):  # never silently overwrite a run
        Trainer(tiny_config(video_folder, tmp_path, **keys, **{"schedule.max_steps": STEPS}))
    resumed = Trainer(tiny_config(video_folder, tmp_path, **keys, **{"schedule.max_steps": STEPS}), resume=True)
    assert resumed.step == 3
    resumed.train()
    assert train_records(tmp_path) == train_records(out)  # identical losses, step by step
    a, b = load_file(str(out / "model" / "model.safetensors")), load_file(str(tmp_path / "model" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_loss_goes_down(video_folder, tmp_path):
    config = tiny_config(video_folder, tmp_path, **{"schedule.max_steps": 24, "schedule.val_every": 24,
                                                    "schedule.ckpt_every": 24, "data.num_workers": 0})
    Trainer(config).train()
    losses = [r["loss"] for r in train_records(tmp_path)]
    assert sum(losses[-4:]) / 4 < 0.7 * sum(losses[:4]) / 4


def test_export_cli_loads_back(full_run, tmp_path, capsys):
    out, _ = full_run
    assert main(["train", "--export", str(out), "-o", str(tmp_path / "exported")]) == 0
    exported = GenvcModel.from_pretrained(tmp_path / "exported")
    assert exported.weights_hash() == GenvcModel.from_pretrained(out / "model").weights_hash()
    assert main(["train", "--export", str(out / "checkpoints" / "step-00000003"), "-o", str(tmp_path / "e3")]) == 0
    assert GenvcModel.from_pretrained(tmp_path / "e3").weights_hash() != exported.weights_hash()
    assert main(["train", "--export", str(tmp_path), "-o", str(tmp_path / "x")]) == 1
    assert "neither a checkpoint" in capsys.readouterr().err


def test_cli_errors_and_help(video_folder, tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("optim:\n  learning_rate: 1\n")
    assert main(["train", "--config", str(tmp_path / "bad.yaml")]) == 1
    assert "unknown config key 'optim.learning_rate'" in capsys.readouterr().err
    assert main(["train", "--config", str(tmp_path / "missing.yaml")]) == 1
    assert main(["train"]) == 1
    assert "--config FILE is required" in capsys.readouterr().err
    assert main(["train", "--config", str(tmp_path / "bad.yaml"), "--set", "optim={}", "--set",
                 "data.folder=" + str(tmp_path / "nope"), "--set", "output_dir=" + str(tmp_path / "o")]) == 1
    assert "data.folder is not a directory" in capsys.readouterr().err
    assert main(["train", "--config", str(tmp_path / "bad.yaml"), "--set", "optim={}", "--set",
                 "model_module=no_such_models", "--set", f"data.folder={video_folder}", "--set", "output_dir=" + str(tmp_path / "o")]) == 1
    assert "model_module 'no_such_models' does not provide" in capsys.readouterr().err
    assert main(["train", "--config", str(tmp_path / "bad.yaml"), "--set", "optim={lr: 1e-4}", "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert "lr: 0.0001" in printed and "clip_frames: 17" in printed
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert "--resume" in help_text and "accelerate launch" in help_text and "--export" in help_text


@pytest.mark.parametrize("native", [False, True])
def test_bf16_on_a_cpu_without_native_bf16_is_warned_about(video_folder, tmp_path, capsys, monkeypatch, native):
    from accelerate.state import AcceleratorState

    import genvc.training.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "native_bf16", lambda: native)
    AcceleratorState._reset_state(True)  # the precision is per process: other tests set theirs first
    try:
        Trainer(tiny_config(video_folder, tmp_path, **{"mixed_precision": "bf16", "data.num_workers": 0}))
    finally:
        AcceleratorState._reset_state(True)
    assert ("emulated" in capsys.readouterr().out) != native
