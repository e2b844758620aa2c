from pathlib import Path

import pytest

from genvc.errors import InputError
from genvc.training.config import TrainConfig, apply_overrides, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_yaml_and_toml_give_the_same_config(tmp_path):
    (tmp_path / "a.yaml").write_text("output_dir: out\noptim:\n  lr: 1e-4\n  betas: [0.8, 0.99]\n"
                                     "data:\n  crop: [48, 64]\n  resize: 96\nmodel:\n  width: 32\n")
    (tmp_path / "a.toml").write_text('output_dir = "out"\n[optim]\nlr = 1e-4\nbetas = [0.8, 0.99]\n'
                                     '[data]\ncrop = [48, 64]\nresize = 96\n[model]\nwidth = 32\n')
    from_yaml, from_toml = load_config(tmp_path / "a.yaml"), load_config(tmp_path / "a.toml")
    assert from_yaml == from_toml
    assert from_yaml.optim.lr == pytest.approx(1e-4)  # PyYAML reads "1e-4" as a string: coerced for float fields
    assert from_yaml.data.crop == (48, 64) and from_yaml.model == {"width": 32}
    assert from_yaml.schedule.batch_size == TrainConfig().schedule.batch_size  # unspecified keys keep defaults


@pytest.mark.parametrize("text, key", [
    ("optim:\n  lrr: 1\n", "optim.lrr"),
    ("dta:\n  folder: x\n", "dta"),
    ("data:\n  crop: [1, 2]\n  extra: 3\n", "data.extra"),
])
def test_unknown_keys_are_refused_by_name(tmp_path, text, key):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(InputError, match=f"unknown config key '{key}'"):
        load_config(tmp_path / "c.yaml")


@pytest.mark.parametrize("override, message", [
    ("optim.lr=fast", "optim.lr: expected float"),
    ("data.clip_frames=16", "4k\\+1"),
    ("mixed_precision=fp32", "must be one of"),
    ("schedule.batch_size=0", "schedule.batch_size must be positive"),
    ("data.frame_stride=[3, 1]", "frame_stride"),
    ("data.crop=[32]", "data.crop: expected 2 values"),
    ("schedule.max_steps=2.5", "schedule.max_steps: expected int"),
    ("novalue", "KEY=VALUE"),
])
def test_bad_values_give_one_clear_error(override, message):
    with pytest.raises(InputError, match=message):
        load_config(None, [override])


def test_overrides_parse_values_and_create_nested_keys():
    data = apply_overrides({"optim": {"lr": 1.0}}, ["optim.lr=1e-4", "data.crop=[16, 24]", "stage=null",
                                                    "model.blocks.depth=3"])
    config = TrainConfig.from_dict(data)
    assert config.optim.lr == pytest.approx(1e-4) and config.data.crop == (16, 24) and config.stage is None
    assert config.model == {"blocks": {"depth": 3}}


def test_round_trip_through_dict():
    config = load_config(None, ["data.resize=[90, 160]", "optim.lr_schedule=cosine"])
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(InputError, match=".yaml, .yml or .toml"):
        load_config(tmp_path / "c.json")
    (tmp_path / "broken.yaml").write_text("optim: [unclosed\n")
    with pytest.raises(InputError, match="cannot parse"):
        load_config(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="top level must be a mapping"):
        load_config(tmp_path / "list.yaml")


@pytest.mark.parametrize("name", ["tiny.yaml", "small-vae.yaml", "small.yaml", "wan-lora.yaml"])
def test_example_configs_load(name):
    config = load_config(CONFIGS / name)
    assert (config.data.clip_frames - 1) % 4 == 0 and config.model_module == "genvc.models"
    models = pytest.importorskip("genvc.models")
    assert models.ModelConfig.from_dict(config.model).to_dict()  # the model section is valid too


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("pixelflow*.yaml")), ids=lambda p: p.name)
def test_the_generator_configs_load_and_name_hooks_that_exist(path):
    from genvc.models.pixelflow import PixelFlowConfig
    from genvc.training.data import load_conditions_fn

    config = load_config(path)
    assert config.model_module == "genvc.models.pixelflow"
    assert PixelFlowConfig(**config.model).modalities  # the model section is valid, with its Multi-C modality
    assert callable(load_conditions_fn(config.data.conditions))
