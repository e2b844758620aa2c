"""configs/tiny.yaml trains the real genvc.models model a few steps; the export loads back with the same weights."""

import pytest

from genvc.cli import main
from train_helpers import ROOT, train_records

models = pytest.importorskip("genvc.models")


def test_tiny_config_trains_the_real_model_and_exports(video_folder, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--config", str(ROOT / "configs" / "tiny.yaml"), "--set", f"data.folder={video_folder}",
            "--set", f"output_dir={out}", "--set", "schedule.max_steps=3", "--set", "schedule.log_every=1",
            "--set", "schedule.val_every=3", "--set", "schedule.ckpt_every=3"]
    assert main(args) == 0
    records = train_records(out)
    assert [r["step"] for r in records] == [1, 2, 3]
    assert {"loss", "flow_mse", "kl", "rate_bits", "bpp"} <= set(records[0])
    trained = models.GenvcModel.from_pretrained(out / "model")
    assert main(["train", "--export", str(out), "-o", str(tmp_path / "exported")]) == 0
    assert models.GenvcModel.from_pretrained(tmp_path / "exported").weights_hash() == trained.weights_hash()
    untrained = models.build_model(models.ModelConfig.from_dict(trained.config.to_dict()))
    assert untrained.weights_hash() != trained.weights_hash()
