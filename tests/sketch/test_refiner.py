import json

import numpy as np
import pytest
import torch

from genvc.errors import ModelError
from genvc.models.refiner import RefinerConfig, SketchRefiner


def test_untrained_refiner_is_the_identity_on_any_size():
    frames = np.random.default_rng(0).integers(0, 256, (3, 17, 23, 3), dtype=np.uint8)  # odd sizes
    out = SketchRefiner(RefinerConfig(channels=8, blocks=1)).refine(frames, 2)
    assert out.shape == frames.shape
    np.testing.assert_array_equal(out, frames)


def test_save_and_load_keep_weights_and_hash(tmp_path):
    torch.manual_seed(0)
    model = SketchRefiner(RefinerConfig(channels=8, blocks=1))
    torch.nn.init.normal_(model.tail.weight, std=0.01)
    model.save_pretrained(tmp_path)
    loaded = SketchRefiner.from_pretrained(tmp_path)
    assert loaded.weights_hash() == model.weights_hash()
    frames = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    np.testing.assert_array_equal(loaded.refine(frames, 3), model.refine(frames, 3))
    assert not np.array_equal(model.refine(frames, 3), frames)  # the perturbed tail does something
    other = SketchRefiner(RefinerConfig(channels=8, blocks=1))
    assert other.weights_hash() != model.weights_hash()


def test_missing_or_broken_weights_raise_model_error(tmp_path):
    with pytest.raises(ModelError):
        SketchRefiner.from_pretrained(tmp_path)
    SketchRefiner(RefinerConfig(channels=8, blocks=1)).save_pretrained(tmp_path)
    (tmp_path / "refiner.json").write_text(json.dumps({"channels": 16, "blocks": 1, "model_id": "x"}))
    with pytest.raises(ModelError):  # shapes no longer match the config
        SketchRefiner.from_pretrained(tmp_path)
    (tmp_path / "refiner.json").write_text("{not json")
    with pytest.raises(ModelError):
        SketchRefiner.from_pretrained(tmp_path)
    SketchRefiner(RefinerConfig(channels=8, blocks=1)).save_pretrained(tmp_path)
    (tmp_path / "refiner.safetensors").write_bytes(b"not safetensors" * 8)
    with pytest.raises(ModelError):  # a corrupt weights file
        SketchRefiner.from_pretrained(tmp_path)


def test_the_embedded_default_loads():
    model = SketchRefiner.from_pretrained()
    assert model.config.model_id == "sketch-refiner"
    assert len(model.weights_hash()) == 8
