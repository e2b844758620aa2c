"""Wan2.1 FLF2V + LoRA on tiny stand-ins saved like the real hub folder (subfolders "vae" and "transformer")."""

import pytest
import torch

from genvc.models import GeneratorConfig, GenvcModel, VAEConfig, build_model


@pytest.fixture(scope="module")
def fake_hub(tmp_path_factory, save_wan_core):
    root = tmp_path_factory.mktemp("wan-flf2v")
    save_wan_core(root)
    return str(root)


def _wan_config(make_config, hub, **overrides):
    return make_config(
        preset="wan", vae=VAEConfig(kind="wan", pretrained=hub),
        generator=GeneratorConfig(pretrained=hub, transformer_config={}, text_tokens=3, lora=True, lora_rank=4,
                                  lora_alpha=4),
        **overrides,
    )


def test_flf2v_lora_forward_backward_trains_only_lora(make_config, fake_hub):
    torch.manual_seed(0)
    model = build_model(_wan_config(make_config, fake_hub)).train()
    transformer = model.generator.transformer
    assert transformer.config.in_channels == 36  # x_t | mask | keyframe latents, Wan FLF2V layout
    video = torch.rand(1, 3, 5, 32, 32) * 2 - 1
    model.training_losses({"video": video})["loss"].backward()
    with_grad = {n for n, p in transformer.named_parameters() if p.grad is not None}
    assert with_grad and all("lora_" in n for n in with_grad)
    assert all(not p.requires_grad for n, p in transformer.named_parameters() if "lora_" not in n)


def test_extra_channels_widen_the_patch_embedding_without_changing_the_base(make_config, fake_hub):
    torch.manual_seed(0)
    model = build_model(_wan_config(make_config, fake_hub, modalities=("seg",))).eval()
    from diffusers import WanTransformer3DModel

    base = WanTransformer3DModel.from_pretrained(fake_hub, subfolder="transformer").eval()
    embed = model.generator.transformer.patch_embedding
    assert embed.in_channels == 52 and embed.weight.requires_grad
    x = torch.randn(1, 36, 2, 4, 4)
    extra = torch.randn(1, 16, 2, 4, 4)
    t = torch.tensor([500.0])
    text = model.generator.text_embedding
    with torch.no_grad():
        expected = base(x, timestep=t, encoder_hidden_states=text, return_dict=False)[0]
        got = model.generator(torch.cat([x, extra], 1), t / 1000)
    assert torch.allclose(got, expected, atol=1e-5)  # zero-initialised extra channels, LoRA B = 0


def test_wan_model_saves_only_its_own_weights(make_config, fake_hub, tmp_path):
    torch.manual_seed(0)
    model = build_model(_wan_config(make_config, fake_hub)).eval()
    saved = model.saved_state_dict()
    assert not any(k.startswith("vae.") for k in saved)
    transformer_keys = [k for k in saved if k.startswith("generator.transformer.")]
    assert transformer_keys and all("lora_" in k for k in transformer_keys)
    with torch.no_grad():
        for name, p in model.generator.transformer.named_parameters():
            if "lora_B" in name:
                p.normal_()
    model.save_pretrained(tmp_path / "m")
    loaded = GenvcModel.from_pretrained(tmp_path / "m")
    assert loaded.weights_hash() == model.weights_hash()
    video = torch.rand(1, 3, 5, 32, 32) * 2 - 1
    assert torch.allclose(loaded.reconstruct(video), model.reconstruct(video), atol=1e-5)
