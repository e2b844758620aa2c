"""The Wan2.1 FLF2V 14B + LoRA preset at real size on one GPU, with random weights (no download): seconds and peak
memory of (1) the encoder side (two VAE encodes + CLIP of the keyframes), (2) one LoRA training step (forward,
backward, AdamW) and (3) one decode (10 Euler steps + VAE decode), and a check that only the LoRA adapters, the
compressor and the entropy model (+ Multi-C embeddings, a widened patch embedding) receive gradients.

    PYTHONPATH=src python tools/gpu_check.py                 # one H100/H200, 1 x 45 x 480 x 832 (target < 7 min)
    PYTHONPATH=src python tools/gpu_check.py --tiny          # the same code on tiny stand-ins, on CPU, seconds

Frozen parts are bf16, trained parts float32, the forward under bf16 autocast on CUDA (as `mixed_precision: bf16`
in configs/wan-lora.yaml), gradient checkpointing on. Prints one JSON object (also written with --out); exits 1 if
a frozen parameter got a gradient.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time

import torch
from torch import nn

from genvc.models import ModelConfig, build_model
from genvc.models.config import CompressorConfig
from genvc.models.wan_pretrained import architecture_only

TRAINED = ("compressor.", "entropy.", "conditioner.", "generator.transformer.patch_embedding.")

# Tiny stand-ins with the real structure (FLF2V image tokens, 512 text tokens), for --tiny on CPU
TINY = {
    "transformer": dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8, in_channels=36,
                        out_channels=16, text_dim=16, freq_dim=16, ffn_dim=32, num_layers=2, cross_attn_norm=True,
                        qk_norm="rms_norm_across_heads", eps=1e-6, image_dim=32, added_kv_proj_dim=16,
                        rope_max_seq_len=64, pos_embed_seq_len=2 * 5),
    "vae": dict(base_dim=8, num_res_blocks=1, dim_mult=[1, 1, 1, 1]),
    "image_encoder": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                          image_size=28, patch_size=14, projection_dim=16),
    "text_encoder": dict(vocab_size=8, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2),
}


def materialize(model: nn.Module, device: torch.device, seed: int = 0) -> nn.Module:
    """Random values for every parameter left on the meta device (matrices N(0, 0.02^2), 1-D weights 1, biases
    0, LoRA B 0 as peft initialises it), made directly on `device`; real tensors are moved there."""
    gen = torch.Generator(device=device).manual_seed(seed)
    for module in model.modules():
        for name, param in list(module._parameters.items()):
            if param is None or param.device.type != "meta":
                continue
            value = torch.empty(param.shape, dtype=param.dtype, device=device)
            if param.ndim >= 2:
                value.normal_(0.0, 0.02, generator=gen)
            elif name == "bias":
                value.zero_()
            else:
                value.fill_(1.0)
            module._parameters[name] = nn.Parameter(value, requires_grad=param.requires_grad)
    for name, module in model.named_modules():  # peft initialises B = 0: the adapted model starts as the base
        if name.endswith(".lora_B"):
            for sub in module.values():
                nn.init.zeros_(sub.weight)
    return model.to(device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def measured(results: dict, key: str, device: torch.device):
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    _sync(device)
    start = time.perf_counter()
    yield
    _sync(device)
    entry = {"seconds": round(time.perf_counter() - start, 3)}
    if device.type == "cuda":
        entry["peak_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    results[key] = entry
    print(f"{key}: {entry}", file=sys.stderr, flush=True)


def build(tiny: bool, device: torch.device, modalities: tuple[str, ...]) -> nn.Module:
    config = ModelConfig.wan(modalities=modalities, sampling_steps=10)
    if tiny:
        config.compressor = CompressorConfig(channels=16, heads=2)
    with architecture_only(TINY if tiny else None):
        model = build_model(config)
    return materialize(model, device)


def run(args) -> dict:
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    if device.type == "cpu" and not args.tiny:
        raise SystemExit("gpu_check: no CUDA device; the real-size check needs one GPU (use --tiny on CPU)")
    frames, height, width = (args.frames, args.height, args.width)
    torch.manual_seed(0)
    results: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                     "tiny": args.tiny, "shape": [1, 3, frames, height, width]}
    with measured(results, "build_random_weights", device):
        model = build(args.tiny, device, tuple(args.modalities))
    params = list(model.parameters())
    results["params"] = sum(p.numel() for p in params)
    results["trainable_params"] = sum(p.numel() for p in model.trainable_parameters())
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()
    video = torch.rand(1, 3, frames, height, width, device=device) * 2 - 1
    conditions = {m: torch.rand_like(video) * 2 - 1 for m in args.modalities}

    model.eval()
    with measured(results, "encode_vae_x2_clip", device), torch.no_grad():
        latent = model.encode_latent(video)
        condition = model.condition_latent(video[:, :, 0], video[:, :, -1], frames)
        image_embeds = model.image_embeddings(video[:, :, 0], video[:, :, -1])
    results["latent_shape"] = list(latent.shape)

    model.train()
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=1e-5)
    with measured(results, "train_step", device):
        with autocast:
            losses = model.training_losses({"video": video, "conditions": conditions})
        losses["loss"].backward()
        optimizer.step()
    results["loss"] = float(losses["loss"].detach())
    with_grad = sorted(n for n, p in model.named_parameters() if p.grad is not None)
    frozen_with_grad = [n for n in with_grad if "lora_" not in n and not n.startswith(TRAINED)]
    results["params_with_grad"] = sum(p.numel() for p in model.parameters() if p.grad is not None)
    results["lora_tensors_with_grad"] = sum("lora_" in n for n in with_grad)
    results["only_trained_parts_have_gradients"] = not frozen_with_grad and results["lora_tensors_with_grad"] > 0
    results["frozen_with_grad"] = frozen_with_grad[:5]
    optimizer.zero_grad(set_to_none=True)
    del optimizer, losses

    model.eval()
    with measured(results, f"decode_{args.steps}_steps", device), torch.no_grad(), autocast:
        h_hat, _ = model.quantize_h(model.compressor.down(latent), condition)
        mu_q, _ = model.compressor.up(h_hat, tuple(latent.shape[2:]))
        out = model.generate(mu_q, condition, frames, model.modality_latents(conditions), steps=args.steps,
                             image_embeds=image_embeds)
    results["decoded_shape"] = list(out.shape)
    if device.type == "cuda":
        results["max_memory_allocated_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny stand-ins (CPU, seconds): checks the script")
    parser.add_argument("--cpu", action="store_true", help="stay on CPU even with a GPU (only with --tiny)")
    parser.add_argument("--frames", type=int, default=None, help="default 45 (9 with --tiny)")
    parser.add_argument("--height", type=int, default=None, help="default 480 (32 with --tiny)")
    parser.add_argument("--width", type=int, default=None, help="default 832 (32 with --tiny)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--modalities", nargs="*", default=[], help="Multi-C modalities (16 input channels each)")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)
    for key, real, tiny in (("frames", 45, 9), ("height", 480, 32), ("width", 832, 32)):
        if getattr(args, key) is None:
            setattr(args, key, tiny if args.tiny else real)
    results = run(args)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0 if results["only_trained_parts_have_gradients"] else 1


if __name__ == "__main__":
    sys.exit(main())
