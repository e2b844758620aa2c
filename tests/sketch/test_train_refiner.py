import json

import numpy as np

from genvc.cli import main
from genvc.models.refiner import SketchRefiner
from genvc.training.refiner import RefinerTrainConfig, train_refiner


def _videos(make):
    return {"a": make(12, 48, 64, seed=1).frames, "b": make(12, 48, 64, seed=2).frames}


def _records(folder):
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def test_training_logs_checkpoints_resumes_and_exports(tmp_path, make_square_video):
    config = RefinerTrainConfig(output_dir=str(tmp_path), steps=4, batch=4, crop=32, window=6,
                                windows_per_video=1, crops_per_frame=1, checkpoint_every=2,
                                model={"channels": 8, "blocks": 1})
    train_refiner(config, _videos(make_square_video), _videos(make_square_video), progress=False)
    records = _records(tmp_path)
    assert [r["step"] for r in records] == [2, 4]
    assert all(np.isfinite(r["loss"]) and r["val_psnr_refined"] > 10 for r in records)
    first = SketchRefiner.from_pretrained(tmp_path / "model")

    config.steps = 6  # resume: the coded pairs and the checkpoint are reused, training goes on from step 4
    train_refiner(config, None, None, progress=False)
    assert [r["step"] for r in _records(tmp_path)] == [2, 4, 6]
    assert SketchRefiner.from_pretrained(tmp_path / "model").weights_hash() != first.weights_hash()


def test_cli_help_and_bad_arguments(capsys, tmp_path):
    try:
        main(["train-refiner", "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "embedded default" in capsys.readouterr().out
    assert main(["train-refiner", "-o", str(tmp_path), "--steps", "0"]) == 1
    assert main(["train-refiner", "-o", str(tmp_path), "--crop", "15"]) == 1
