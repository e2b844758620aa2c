"""The Wan preset's frozen parts on tiny stand-ins saved like the hub folder: umT5 empty-prompt embedding (cached),
captions, the frozen dtype (bf16) next to float32 LoRA / compressor / entropy model."""

import pytest
import torch

from genvc.errors import ModelError
from genvc.models import GeneratorConfig, VAEConfig, build_model
from genvc.models.text_encoder import PromptEncoder, empty_prompt_embedding

TEXT_DIM = 16  # = the tiny transformer's text_dim
TOKENS = 8


def _tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "</s>", "<unk>", "a", "red", "cat", "runs", "fast"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


@pytest.fixture(scope="module")
def text_hub(tmp_path_factory, save_wan_core):
    from transformers import UMT5Config, UMT5EncoderModel

    root = tmp_path_factory.mktemp("wan-text")
    save_wan_core(root)
    UMT5EncoderModel(UMT5Config(vocab_size=8, d_model=TEXT_DIM, d_kv=4, d_ff=32, num_layers=1, num_heads=2)
                     ).save_pretrained(root / "text_encoder")
    _tiny_tokenizer().save_pretrained(root / "tokenizer")
    return str(root)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVC_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _config(make_config, hub, **overrides):
    generator = GeneratorConfig(pretrained=hub, transformer_config={}, text_tokens=TOKENS, lora=True, lora_rank=4,
                                lora_alpha=4, text_encoder=hub, gradient_checkpointing=True)
    return make_config(preset="wan", vae=VAEConfig(kind="wan", pretrained=hub), generator=generator, **overrides)


def test_prompt_embeddings_keep_real_tokens_and_zero_the_padding(text_hub):
    encoder = PromptEncoder.load(text_hub, torch.float32, max_tokens=TOKENS)
    out = encoder.encode(["", "a  red cat\nruns"])
    assert out.shape == (2, TOKENS, TEXT_DIM) and out.dtype == torch.float32
    real = out.abs().sum(-1) > 0
    assert real[0].tolist() == [True] + [False] * (TOKENS - 1)  # "" is just </s>
    assert real[1].tolist() == [True] * 5 + [False] * (TOKENS - 5)  # 4 words (whitespace cleaned) + </s>
    assert not torch.allclose(out[0, 0], out[1, 0])


def test_empty_prompt_embedding_is_computed_once_then_read_from_the_cache(text_hub, _cache, monkeypatch):
    first = empty_prompt_embedding(text_hub, torch.float32, TOKENS, TEXT_DIM)
    assert len(list((_cache / "text").glob("*.safetensors"))) == 1

    def no_load(*args, **kwargs):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(PromptEncoder, "load", no_load)
    assert torch.equal(empty_prompt_embedding(text_hub, torch.float32, TOKENS, TEXT_DIM), first)
    with pytest.raises(ModelError, match="needs"):  # same cache entry, a transformer of another width
        empty_prompt_embedding(text_hub, torch.float32, TOKENS, TEXT_DIM * 2)


def test_missing_text_encoder_weights_are_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="umT5 text encoder"):
        empty_prompt_embedding(str(tmp_path / "nowhere"), torch.float32, TOKENS, TEXT_DIM)


def test_bf16_frozen_parts_fp32_trained_parts_and_the_gradients(make_config, text_hub):
    torch.manual_seed(0)
    model = build_model(_config(make_config, text_hub, frozen_dtype="bfloat16", modalities=("pose",))).train()
    transformer = model.generator.transformer
    assert transformer.blocks[0].attn1.to_q.base_layer.weight.dtype == torch.bfloat16
    assert next(model.vae.parameters()).dtype == torch.bfloat16
    assert transformer.blocks[0].attn1.to_q.lora_A["default"].weight.dtype == torch.float32
    assert transformer.patch_embedding.weight.dtype == torch.float32  # widened for the modality: trained
    assert transformer.is_gradient_checkpointing
    expected = PromptEncoder.load(text_hub, torch.bfloat16, TOKENS).encode([""])  # umT5 runs in the frozen dtype
    assert torch.equal(model.generator.text_embedding, expected)  # Wan's empty prompt, not zeros
    video = torch.rand(1, 3, 5, 32, 32) * 2 - 1
    pose = torch.rand(1, 3, 5, 32, 32) * 2 - 1
    loss = model.training_losses({"video": video, "conditions": {"pose": pose}})["loss"]
    assert torch.isfinite(loss)
    loss.backward()
    with_grad = {n for n, p in model.named_parameters() if p.grad is not None}
    assert any("lora_" in n for n in with_grad) and any(n.startswith("compressor.") for n in with_grad)
    assert any(n.startswith("entropy.") for n in with_grad)
    allowed = ("compressor.", "entropy.", "conditioner.", "generator.transformer.patch_embedding.")
    assert all("lora_" in n or n.startswith(allowed) for n in with_grad)
    assert all(p.dtype == torch.float32 for p in model.trainable_parameters())


def test_a_caption_changes_the_generated_clip(make_config, text_hub):
    torch.manual_seed(0)
    model = build_model(_config(make_config, text_hub)).eval()
    with torch.no_grad():  # LoRA B = 0 at the start; give the adapters a function so the text input matters more
        for name, p in model.generator.transformer.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.5)
    video = torch.rand(1, 3, 5, 32, 32) * 2 - 1
    condition = model.condition_latent(video[:, :, 0], video[:, :, -1], 5)
    caption = model.text_embeddings(["a red cat runs fast"])
    assert caption.shape == (1, TOKENS, TEXT_DIM)
    plain = model.generate(condition, condition, 5, steps=2)
    captioned = model.generate(condition, condition, 5, steps=2, text_embeds=caption)
    assert not torch.allclose(plain, captioned)
    with pytest.raises(ModelError, match="text embeddings"):
        model.generate(condition, condition, 5, steps=1, text_embeds=torch.zeros(1, TOKENS + 1, TEXT_DIM))
