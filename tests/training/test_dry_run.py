"""`genvc train --dry-run` builds the real-size Wan2.1 FLF2V 14B + LoRA on the meta device: its counts are pinned
against the published configs, recomputed here layer by layer from the architecture."""

import json

import pytest

from genvc.cli import main
from genvc.models.wan_pretrained import CLIP_VIT_H14, UMT5_XXL, WAN_FLF2V_14B_TRANSFORMER
from genvc.training.config import load_config
from genvc.training.dry_run import dry_run
from train_helpers import ROOT

CONFIG = str(ROOT / "configs" / "wan-lora.yaml")


def test_the_transformer_config_is_the_published_flf2v_14b():
    # diffusers scripts/convert_wan_to_diffusers.py, "Wan-FLF2V-14B-720P" (= Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers)
    assert WAN_FLF2V_14B_TRANSFORMER == dict(
        patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128, in_channels=36, out_channels=16,
        text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", eps=1e-6, image_dim=1280, added_kv_proj_dim=5120, rope_max_seq_len=1024,
        pos_embed_seq_len=514)
    assert (UMT5_XXL["d_model"], UMT5_XXL["d_ff"], UMT5_XXL["num_layers"], UMT5_XXL["vocab_size"]) == (
        4096, 10240, 24, 256384)
    assert (CLIP_VIT_H14["hidden_size"], CLIP_VIT_H14["num_hidden_layers"], CLIP_VIT_H14["patch_size"]) == (1280, 32, 14)


def _transformer_params(d=5120, ffn=13824, layers=40, text=4096, freq=256, image=1280, image_tokens=514, cin=36):
    linear = lambda i, o: i * o + o  # noqa: E731
    block = (4 * linear(d, d) + 2 * d  # self-attention q, k, v, out + q/k RMS norms
             + 4 * linear(d, d) + 2 * d + 2 * linear(d, d) + d  # cross-attention + image k/v + its k norm
             + 2 * d  # cross-attention LayerNorm (affine)
             + linear(d, ffn) + linear(ffn, d) + 6 * d)  # feed-forward + modulation table
    embed = (cin * 1 * 2 * 2 * d + d + linear(freq, d) + linear(d, d) + linear(d, 6 * d) + linear(text, d)
             + linear(d, d) + 2 * image + linear(image, image) + linear(image, d) + 2 * d + image_tokens * image)
    head = linear(d, 16 * 4) + 2 * d
    return layers * block + embed + head


def test_dry_run_counts_the_real_size_model(capsys):
    assert main(["train", "--config", CONFIG, "--dry-run", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    parts = info["components"]
    assert parts["transformer"]["params"] == _transformer_params()  # 16,395,536,704 (the "14B" is its T2V base)
    lora = 40 * 8 * 16 * (5120 + 5120)  # r=16 on to_q/k/v/out of both attentions of 40 blocks
    assert parts["lora"] == {"params": lora, "trainable": lora}
    h = 1280
    clip = h + 3 * 14 * 14 * h + 257 * h + 4 * h + 32 * (4 * (h * h + h) + 4 * h + 2 * h * 5120 + 5120 + h)
    assert parts["image_encoder"] == {"params": clip, "trainable": 0}
    d = 4096
    assert info["text_encoder_params"] == 256384 * d + 24 * (4 * d * d + 32 * 64 + 2 * d + 3 * d * 10240) + d
    assert 126_500_000 < parts["vae"]["params"] < 127_500_000 and parts["vae"]["trainable"] == 0  # Wan-VAE: 127M
    trained = ("lora", "compressor", "entropy", "conditioner")
    assert info["trainable_params"] == sum(parts[k]["trainable"] for k in trained if k in parts)
    assert parts["compressor"]["trainable"] > 0 and parts["entropy"]["trainable"] > 0
    assert info["total_params"] == sum(c["params"] for c in parts.values())
    assert info["in_channels"] == 36 and info["trainable_dtypes"] == ["float32"] and info["frozen_dtype"] == "bfloat16"
    memory = info["memory"]
    assert memory["tokens"] == 12 * 30 * 52 and memory["gradient_checkpointing"]
    weights = memory["terms_bytes"]["weights"]
    bf16 = 2 * (info["total_params"] - info["trainable_params"])
    assert bf16 < weights < bf16 * 1.002  # frozen in bf16; diffusers keeps the time embedder, norms, tables fp32
    assert memory["terms_bytes"]["trainable_and_adam"] == 16 * info["trainable_params"]
    assert info["estimated_peak_gib"] == round(memory["peak_bytes"] / 2**30, 2)
    assert info["fits"] == (memory["peak_bytes"] <= 80 * 2**30) and info["gpu_memory_gib"] == 80


def test_dry_run_says_when_the_estimate_exceeds_a_gpu_and_how_to_fit_it(capsys):
    config = load_config(CONFIG, [])
    peak = dry_run(config)["memory"]["peak_bytes"] / 2**30
    small = dry_run(config, gpu_memory_gib=peak - 1)  # just too small for one GPU
    assert not small["fits"] and small["fits_with_fsdp_gpus"] is not None
    n = small["fits_with_fsdp_gpus"]
    assert dry_run(config, gpus=n, fsdp=True)["memory"]["peak_bytes"] / 2**30 <= peak - 1
    assert dry_run(config, gpu_memory_gib=peak + 1)["fits"]
    assert main(["train", "--config", CONFIG, "--dry-run", "--gpu-memory", f"{peak - 1:.2f}"]) == 0
    out = capsys.readouterr().out
    assert "DOES NOT FIT" in out and f"--gpus {n} --fsdp" in out and " GB" not in out
    assert main(["train", "--config", CONFIG, "--dry-run", "--gpu-memory", "1"]) == 0
    assert "no FSDP split" in capsys.readouterr().out  # weights alone are more than 1 GiB a GPU at 64


def test_modalities_widen_the_input_and_the_estimate_follows_the_setup():
    config = load_config(CONFIG, ["model.modalities=[segmentation,pose]"])
    info = dry_run(config, gpus=8)
    assert info["in_channels"] == 36 + 2 * 16
    embed = (36 + 32) * 4 * 5120 + 5120  # the widened patch embedding trains
    assert info["components"]["transformer"]["trainable"] == embed
    off = dry_run(load_config(CONFIG, ["model.generator.gradient_checkpointing=false"]), gpus=8)
    assert off["memory"]["terms_bytes"]["activations"] > 10 * info["memory"]["terms_bytes"]["activations"]
    sharded = dry_run(config, gpus=8, fsdp=True)["memory"]["terms_bytes"]
    assert sharded["weights"] * 8 == pytest.approx(info["memory"]["terms_bytes"]["weights"], rel=1e-6)


def test_dry_run_refuses_a_batch_that_does_not_split(capsys):
    assert main(["train", "--config", CONFIG, "--dry-run", "--gpus", "3"]) == 1
    assert "divide" in capsys.readouterr().err
    assert main(["train", "--config", CONFIG, "--json"]) == 1
