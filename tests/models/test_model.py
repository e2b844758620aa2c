import json

import pytest
import torch

from genvc.errors import ModelError
from genvc.models import EntropyConfig, GenvcModel, ModelConfig, build_model

KEYS = {"loss", "flow_mse", "kl", "rate_bits", "bpp"}


def _grads(module):
    return [p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters() if p.requires_grad]


def test_flow_stage_trains_everything_but_the_vae(make_config, video):
    torch.manual_seed(0)
    model = build_model(make_config()).train()
    losses = model.training_losses({"video": video})
    assert KEYS <= set(losses) and all(torch.isfinite(v) for v in losses.values())
    assert losses["bpp"] == pytest.approx(losses["rate_bits"].item() / (9 * 32 * 32))
    losses["loss"].backward()
    assert all(p.grad is None for p in model.vae.parameters())
    assert any(_grads(model.compressor)) and any(_grads(model.generator)) and any(_grads(model.entropy))
    params = {id(p) for p in model.trainable_parameters("flow")}
    assert not params & {id(p) for p in model.vae.parameters()}


def test_vae_stage_trains_only_the_vae(make_config, video):
    model = build_model(make_config()).train()
    losses = model.training_losses({"video": video}, stage="vae")
    assert KEYS <= set(losses) and losses["recon_mse"] > 0
    losses["loss"].backward()
    assert any(_grads(model.vae))
    assert all(p.grad is None for p in model.compressor.parameters())
    with pytest.raises(ModelError):
        model.training_losses({"video": video}, stage="bogus")


@pytest.mark.parametrize("overrides", [
    dict(prior="standard"), dict(path="noise"), dict(entropy=EntropyConfig(coding="bf16")),
    dict(modalities=("seg", "pose"), h_dropout=0.5),
])
def test_ablation_switches_run(make_config, video, overrides):
    torch.manual_seed(0)
    model = build_model(make_config(**overrides)).train()
    conditions = {"seg": video} if model.config.modalities else None
    losses = model.training_losses({"video": video, "conditions": conditions})
    losses["loss"].backward()
    assert torch.isfinite(losses["loss"])
    if model.config.entropy.coding == "bf16":
        assert losses["rate_bits"] == 16 * 16 * 2  # 16 bits x 16 channels x h of 2 x 1 x 1 (latent 3 x 4 x 4)
    out = model.reconstruct(video[:1], conditions={"seg": video[:1]} if conditions else None)
    assert out.shape == video[:1].shape


def test_standard_prior_kl_is_against_unit_gaussian(make_config, video):
    torch.manual_seed(0)
    model = build_model(make_config(prior="standard")).eval()
    x = model.encode_latent(video)
    h_hat, _ = model.quantize_h(model.compressor.down(x), model.condition_latent(video[:, :, 0], video[:, :, -1], 9))
    mu, sigma = model.compressor.up(h_hat, tuple(x.shape[2:]))
    expected = (-sigma.log() + (sigma**2 + mu**2) / 2 - 0.5).mean()
    torch.manual_seed(3)
    assert model.training_losses({"video": video})["kl"] == pytest.approx(expected.item(), rel=1e-4)


def test_reconstruct_keeps_keyframes_and_is_deterministic(tiny_model, video):
    a, b = tiny_model.reconstruct(video), tiny_model.reconstruct(video)
    assert a.shape == video.shape and torch.equal(a, b)
    assert torch.equal(a[:, :, 0], video[:, :, 0]) and torch.equal(a[:, :, -1], video[:, :, -1])
    assert a.abs().max() <= 1


def test_save_load_roundtrip_and_hash(make_config, video, tmp_path):
    torch.manual_seed(0)
    model = build_model(make_config()).eval()
    model.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    loaded = GenvcModel.from_pretrained(tmp_path / "m")
    assert loaded.config == model.config and loaded.model_id == model.model_id == "genvc-small"
    assert loaded.weights_hash() == model.weights_hash() and len(model.weights_hash()) == 8
    assert torch.equal(loaded.reconstruct(video), model.reconstruct(video))
    with torch.no_grad():
        next(loaded.generator.parameters()).add_(1e-3)
    assert loaded.weights_hash() != model.weights_hash()


def test_config_dict_roundtrip_through_json(make_config):
    config = make_config(modalities=("seg",), path="noise")
    again = ModelConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    with pytest.raises(ModelError):
        ModelConfig.from_dict({**config.to_dict(), "bogus": 1})
    with pytest.raises(ModelError):
        ModelConfig(prior="laplace")


def test_from_pretrained_refuses_bad_folders(make_config, tmp_path):
    with pytest.raises(ModelError):
        GenvcModel.from_pretrained(tmp_path)
    build_model(make_config()).save_pretrained(tmp_path / "a")
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    config["compressor"]["channels"] = 32
    (tmp_path / "a" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError):
        GenvcModel.from_pretrained(tmp_path / "a")
    build_model(make_config()).save_pretrained(tmp_path / "b")
    (tmp_path / "b" / "model.safetensors").write_bytes(b"not safetensors" * 8)
    with pytest.raises(ModelError):  # a corrupt weights file
        GenvcModel.from_pretrained(tmp_path / "b")


def test_folders_without_a_kind_still_load_and_other_kinds_are_refused(make_config, tmp_path):
    model = build_model(make_config()).eval()
    model.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config.pop("kind") == "genvc"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))  # as folders were saved before kinds
    assert GenvcModel.from_pretrained(tmp_path / "m").weights_hash() == model.weights_hash()
    (tmp_path / "m" / "config.json").write_text(json.dumps({**config, "kind": "pixelflow"}))
    with pytest.raises(ModelError, match="kind 'pixelflow'"):
        GenvcModel.from_pretrained(tmp_path / "m")
