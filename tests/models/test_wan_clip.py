"""Wan2.1 FLF2V with CLIP image tokens (image_dim set), on tiny stand-ins saved like the real hub folder
("vae", "transformer", "image_encoder", "image_processor")."""

import numpy as np
import pytest
import torch

from genvc.errors import ModelError
from genvc.methods import ClipContext, get_method
from genvc.models import GeneratorConfig, GenvcModel, VAEConfig, build_model

CLIP = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2, image_size=32,
            patch_size=16, projection_dim=16)
CLIP_TOKENS = (32 // 16) ** 2 + 1  # patches + class token


@pytest.fixture(scope="module")
def clip_hub(tmp_path_factory, tiny_transformer, save_wan_core):
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    root = tmp_path_factory.mktemp("wan-flf2v-clip")
    inner = tiny_transformer["num_attention_heads"] * tiny_transformer["attention_head_dim"]
    save_wan_core(root, image_dim=16, added_kv_proj_dim=inner, pos_embed_seq_len=2 * CLIP_TOKENS)
    CLIPVisionModel(CLIPVisionConfig(**CLIP)).save_pretrained(root / "image_encoder")
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        root / "image_processor")
    return str(root)


def _config(make_config, hub, text_tokens=512):
    return make_config(
        preset="wan", vae=VAEConfig(kind="wan", pretrained=hub),
        generator=GeneratorConfig(pretrained=hub, transformer_config={}, text_tokens=text_tokens, lora=True,
                                  lora_rank=4, lora_alpha=4, image_encoder=hub),
    )


@pytest.fixture(scope="module")
def clip_model(make_config, clip_hub):
    torch.manual_seed(0)
    return build_model(_config(make_config, clip_hub))


def test_torch_preprocessing_matches_the_clip_processor(clip_model, clip_hub):
    from transformers import CLIPImageProcessor

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (48, 72, 3), dtype=np.uint8)
    expected = CLIPImageProcessor.from_pretrained(clip_hub, subfolder="image_processor")(
        images=image, return_tensors="pt")["pixel_values"]
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 127.5 - 1
    got = clip_model.generator.image_encoder.preprocess(tensor)
    assert got.shape == expected.shape == (1, 3, 32, 32)
    # PIL resamples in uint8: allow a couple of grey levels (1 level ~ 0.015 after dividing by std ~ 0.27)
    assert (got - expected).abs().mean() < 0.05


def test_training_uses_clip_tokens_and_trains_only_lora(clip_model):
    model = clip_model.train()
    encoder = model.generator.image_encoder
    assert not encoder.training and not any(p.requires_grad for p in encoder.parameters())
    video = torch.rand(2, 3, 5, 32, 32) * 2 - 1
    tokens = model.image_embeddings(video[:, :, 0], video[:, :, -1])
    assert tokens.shape == (2 * 2, CLIP_TOKENS, 16)  # first_0, last_0, first_1, last_1
    assert torch.allclose(tokens[1], model.image_embeddings(video[:1, :, -1], video[:1, :, 0])[0], atol=1e-5)
    model.zero_grad()
    model.training_losses({"video": video})["loss"].backward()
    grads = {n for n, p in model.generator.named_parameters() if p.grad is not None}
    transformer_grads = {n for n in grads if n.startswith("transformer.")}
    assert transformer_grads and all("lora_" in n for n in transformer_grads)
    assert not any(n.startswith("image_encoder.") for n in grads)
    # the image tokens reach the output: other keyframe tokens change the velocity
    inputs, t = torch.randn(1, 36, 2, 4, 4), torch.tensor([0.5])
    with torch.no_grad():
        for name, p in model.generator.transformer.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.1)
        a = model.generator(inputs, t, tokens[:2])
        b = model.generator(inputs, t, tokens[2:])
    assert not torch.allclose(a, b)
    with pytest.raises(ModelError):
        model.generator(inputs, t)


def test_reconstruct_save_load_and_flowib_roundtrip(clip_model, tmp_path):
    model = clip_model.eval()
    saved = model.saved_state_dict()
    assert not any(k.startswith("generator.image_encoder.") for k in saved)
    model.save_pretrained(tmp_path / "m")
    loaded = GenvcModel.from_pretrained(tmp_path / "m")
    video = torch.rand(1, 3, 5, 32, 32) * 2 - 1
    out = model.reconstruct(video)
    assert out.shape == video.shape and torch.isfinite(out).all()
    assert torch.allclose(loaded.reconstruct(video), out, atol=1e-5)

    method = get_method("flowib", model=model, steps=2)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (5, 24, 40, 3), dtype=np.uint8)
    ctx = ClipContext(first=frames[0], last=frames[-1], num_frames=5, fps=25.0)
    decoded = method.decode(method.encode(frames, ctx, None), ctx)
    assert decoded.shape == frames.shape and np.array_equal(decoded[0], frames[0])


def test_image_dim_needs_an_encoder_and_512_text_tokens(make_config, clip_hub):
    config = _config(make_config, clip_hub)
    config.generator.image_encoder = None
    with pytest.raises(ModelError, match="image_encoder"):
        build_model(config)
    with pytest.raises(ModelError, match="512"):
        build_model(_config(make_config, clip_hub, text_tokens=8))
