"""`genvc train --dry-run`: the configured model built at real size on the meta device (no weights read, no memory,
no GPU; seconds), its parameter counts, the generator's input channels and an estimate of the peak GPU memory of
one training step.

The estimate, per GPU (S = number of GPUs with FSDP full sharding, else 1; B = micro-batch per GPU):

    weights      = sum over frozen parameters of numel x element size (bf16: 2 bytes)            / S
    trainable    = trainable parameters x 16 bytes (fp32 value 4 + gradient 4 + Adam m, v 8)    / S
    activations  = B x L x n_layers x (2 D_ckpt d)                         with gradient checkpointing
                 + B x L x (4 F32_D d + s LOWP_D d + s LOWP_F ffn)         (the one block being recomputed)
              or = B x L x n_layers x (4 F32_D d + s LOWP_D d + s LOWP_F ffn)   without checkpointing
    fsdp_gather  = 2 x (parameters of one block) x element size    (FSDP only: one block gathered + one prefetched)
    overhead     = 2 GiB (CUDA context, cuBLAS/attention workspaces, allocator fragmentation)

with L = (T'/pt)(H'/ph)(W'/pw) video tokens (T' = (T-1)/4 + 1, H' = H/8, W' = W/8, patch (pt, ph, pw)), d the
model width, ffn the feed-forward width and s the element size of the frozen (compute) dtype. F32_D, LOWP_D and
LOWP_F count the L x d and L x ffn tensors one diffusers `WanTransformerBlock` keeps for backward (fp32 around its
three norms and residual adds, bf16 elsewhere: q/k/v before and after norm and rotary, attention outputs, the
projections' inputs, the feed-forward's hidden and GELU). It is a count of the code, not a measurement:
`tools/gpu_check.py` measures the real step. Not included: the frozen VAE/CLIP encoders (run without grad before
the transformer, their transient peak is not concurrent with its activations), the compressor's and entropy model's
activations (latent-sized, small), the umT5 encoder (never resident: its empty-prompt embedding is cached).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from genvc.errors import InputError, ModelError
from genvc.training.config import TrainConfig

GIB = 2**30
F32_D, LOWP_D, LOWP_F, CKPT_D = 6, 16, 2, 1
OVERHEAD_BYTES = 2 * GIB
ADAM_BYTES_PER_TRAINABLE = 16


def _count(params) -> int:
    return sum(p.numel() for p in params)


def _bytes(params) -> int:
    return sum(p.numel() * p.element_size() for p in params)


def _components(model: nn.Module) -> "OrderedDict[str, list[nn.Parameter]]":
    """Parameters grouped by part (LoRA adapters apart from the transformer they sit in)."""
    groups: OrderedDict[str, list[nn.Parameter]] = OrderedDict()
    for name, param in model.named_parameters():
        if "lora_" in name:
            key = "lora"
        elif name.startswith("generator.transformer."):
            key = "transformer"
        elif name.startswith("generator.image_encoder."):
            key = "image_encoder"
        else:
            key = name.split(".")[0] if not name.startswith("generator.") else "generator_other"
        groups.setdefault(key, []).append(param)
    return groups


def _text_encoder_params(model: nn.Module) -> int | None:
    generator = getattr(model, "generator", None)
    source = getattr(generator, "text_encoder_source", None)
    if not source:
        return None
    from genvc.models.wan_pretrained import load_text_encoder

    encoder, _ = load_text_encoder(source, torch.bfloat16)  # inside architecture_only(): on the meta device
    return _count(encoder.parameters())


def memory_estimate(model: nn.Module, config: TrainConfig, gpus: int = 1, fsdp: bool = False) -> dict:
    """Peak memory per GPU of one training step, by term (bytes); see the module docstring for the formula."""
    batch = config.schedule.batch_size
    if gpus < 1 or batch % gpus:
        raise InputError(f"schedule.batch_size={batch} must divide by the number of GPUs ({gpus})")
    micro = batch // gpus
    shards = gpus if fsdp else 1
    transformer = model.generator.transformer
    tcfg = transformer.config
    frozen = [p for p in model.parameters() if not p.requires_grad]
    trainable = [p for p in model.parameters() if p.requires_grad]
    lowp = torch.finfo(model.generator.compute_dtype).bits // 8
    frames, (height, width) = config.data.clip_frames, config.data.crop
    pt, ph, pw = tcfg.patch_size
    latent = ((frames - 1) // 4 + 1, height // 8, width // 8)
    tokens = math.ceil(latent[0] / pt) * math.ceil(latent[1] / ph) * math.ceil(latent[2] / pw)
    d = tcfg.num_attention_heads * tcfg.attention_head_dim
    per_block = micro * tokens * (4 * F32_D * d + lowp * (LOWP_D * d + LOWP_F * tcfg.ffn_dim))
    checkpointing = bool(transformer.is_gradient_checkpointing)
    if checkpointing:
        activations = micro * tokens * tcfg.num_layers * lowp * CKPT_D * d + per_block
    else:
        activations = tcfg.num_layers * per_block
    block_bytes = _bytes(transformer.blocks[0].parameters())
    terms = OrderedDict(
        weights=_bytes(frozen) // shards,
        trainable_and_adam=_count(trainable) * ADAM_BYTES_PER_TRAINABLE // shards,
        activations=activations,
        fsdp_gather=2 * block_bytes if fsdp else 0,
        overhead=OVERHEAD_BYTES,
    )
    return {"gpus": gpus, "fsdp": fsdp, "micro_batch": micro, "latent_shape": list(latent), "tokens": tokens,
            "gradient_checkpointing": checkpointing, "terms_bytes": dict(terms), "peak_bytes": sum(terms.values())}


#: the memory of one GPU the estimate is checked against, GiB (`--gpu-memory`): an 80 GB A100 or H100
GPU_MEMORY_GIB = 80.0


def dry_run(config: TrainConfig, gpus: int = 1, fsdp: bool = False, gpu_memory_gib: float = GPU_MEMORY_GIB) -> dict:
    """Counts and the memory estimate of `config`'s model, built on the meta device, checked against a GPU of
    `gpu_memory_gib` GiB; where it does not fit, the fewest GPUs with FSDP full sharding that would."""
    from genvc.models.wan_pretrained import architecture_only
    from genvc.training.model_io import build_model, select_trainable

    if config.init_from:  # its architecture (config.json, when the `model:` section is empty), never its weights
        model_dict = dict(config.model)
        if not model_dict and (Path(config.init_from) / "config.json").is_file():
            model_dict = json.loads((Path(config.init_from) / "config.json").read_text())
        config = dataclasses.replace(config, init_from=None, model=model_dict)
    _quiet_libraries()
    with architecture_only():
        model = build_model(config)
        select_trainable(model, config.stage)
        text_params = _text_encoder_params(model)
    if not hasattr(model, "generator") or not hasattr(model.generator, "transformer"):
        raise ModelError("--dry-run needs a genvc model with a Wan generator (genvc.models)")
    groups = _components(model)
    params = list(model.parameters())
    trainable = [p for p in params if p.requires_grad]
    dtypes = sorted({str(p.dtype).replace("torch.", "") for p in trainable})
    estimate = memory_estimate(model, config, gpus, fsdp)
    limit = gpu_memory_gib * GIB
    fits = estimate["peak_bytes"] <= limit
    sharded = None  # the fewest GPUs (a divisor of the batch, up to 64) whose FSDP estimate fits
    if not fits:
        batch = config.schedule.batch_size
        sharded = next((n for n in range(2, 65) if batch % n == 0
                        and memory_estimate(model, config, n, True)["peak_bytes"] <= limit), None)
    tcfg = model.generator.transformer.config
    return {
        "config_model": getattr(model, "model_id", None),
        "total_params": _count(params),
        "trainable_params": _count(trainable),
        "trainable_dtypes": dtypes,
        "frozen_dtype": str(model.generator.compute_dtype).replace("torch.", ""),
        "components": {k: {"params": _count(v), "trainable": _count(p for p in v if p.requires_grad)}
                       for k, v in groups.items()},
        "text_encoder_params": text_params,
        "transformer": {"num_layers": tcfg.num_layers, "num_attention_heads": tcfg.num_attention_heads,
                        "attention_head_dim": tcfg.attention_head_dim, "ffn_dim": tcfg.ffn_dim,
                        "base_in_channels": tcfg.in_channels},
        "in_channels": model.generator.transformer.patch_embedding.in_channels,
        "modalities": list(getattr(model.config, "modalities", ())),
        "batch_size": config.schedule.batch_size, "clip_frames": config.data.clip_frames,
        "crop": list(config.data.crop), "mixed_precision": config.mixed_precision,
        "memory": estimate,
        "estimated_peak_gib": round(estimate["peak_bytes"] / GIB, 2),
        "gpu_memory_gib": gpu_memory_gib,
        "fits": fits,
        "fits_with_fsdp_gpus": sharded,
    }


def _quiet_libraries() -> None:
    # diffusers warns about casting on every meta build, transformers about torchvision: noise in a report
    import diffusers.utils.logging
    import transformers.utils.logging

    diffusers.utils.logging.set_verbosity_error()
    transformers.utils.logging.set_verbosity_error()


def format_report(info: dict) -> str:
    m = info["memory"]
    lines = [f"model {info['config_model']}: pretrained parts built on the meta device (no weights read, no GPU)"]
    lines.append(f"  {'part':<16}{'parameters':>16}{'trainable':>16}")
    for name, c in info["components"].items():
        lines.append(f"  {name:<16}{c['params']:>16,}{c['trainable']:>16,}")
    lines.append(f"  {'total':<16}{info['total_params']:>16,}{info['trainable_params']:>16,}")
    if info["text_encoder_params"] is not None:
        lines.append(f"  umT5 text encoder {info['text_encoder_params']:,} parameters (not resident: its empty-prompt "
                     "embedding is cached)")
    t = info["transformer"]
    extra = info["in_channels"] - t["base_in_channels"]
    lines.append(f"transformer: {t['num_layers']} layers, {t['num_attention_heads']} heads x {t['attention_head_dim']}, "
                 f"ffn {t['ffn_dim']}; input channels {info['in_channels']} = {t['base_in_channels']} (FLF2V: x_t 16 | "
                 f"mask 4 | keyframes 16) + {extra} ({len(info['modalities'])} Multi-C modalities x 16"
                 f"{', + z 16' if extra > 16 * len(info['modalities']) else ''})")
    lines.append(f"dtypes: frozen {info['frozen_dtype']}, trainable {', '.join(info['trainable_dtypes'])}; "
                 f"mixed_precision {info['mixed_precision']}")
    lines.append(f"step: batch {info['batch_size']} over {m['gpus']} GPU(s) = {m['micro_batch']} per GPU, "
                 f"{info['clip_frames']} x {info['crop'][0]} x {info['crop'][1]} -> latent {m['latent_shape']}, "
                 f"{m['tokens']:,} tokens; gradient checkpointing {'on' if m['gradient_checkpointing'] else 'off'}"
                 f"{'; FSDP full shard' if m['fsdp'] else ''}")
    terms = ", ".join(f"{k} {v / GIB:.1f}" for k, v in m["terms_bytes"].items())
    lines.append(f"estimated peak memory per GPU: {info['estimated_peak_gib']:.1f} GiB ({terms}; "
                 "formula in genvc/training/dry_run.py, measured by tools/gpu_check.py)")
    limit = f"{info['gpu_memory_gib']:g} GiB"
    if info["fits"]:
        lines.append(f"fits a GPU of {limit} (--gpu-memory)")
    else:
        advice = (f"with FSDP full sharding it fits on {info['fits_with_fsdp_gpus']} such GPUs "
                  f"(--gpus {info['fits_with_fsdp_gpus']} --fsdp)" if info["fits_with_fsdp_gpus"] else
                  "no FSDP split of this batch up to 64 GPUs fits either")
        lines.append(f"DOES NOT FIT a GPU of {limit} (--gpu-memory): {advice}; a smaller data.crop, "
                     "data.clip_frames or schedule.batch_size also lowers it")
    return "\n".join(lines)
