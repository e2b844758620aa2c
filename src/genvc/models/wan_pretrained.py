"""The one place the frozen pretrained parts of the Wan preset are loaded (transformer, VAE, CLIP, umT5), in a
chosen dtype, with one clear `ModelError` when a folder or its weights are missing.

Inside `architecture_only()` nothing is read from disk: each part is built from the *published* config of Wan2.1
FLF2V 14B below on the meta device (no memory, no weights), so `genvc train --dry-run` counts parameters and
channels of the real-size model in seconds on any machine. The values are those of diffusers'
`scripts/convert_wan_to_diffusers.py` ("Wan-FLF2V-14B-720P", the config of Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers),
`AutoencoderKLWan`'s defaults (the Wan2.1 VAE), google/umt5-xxl and laion/CLIP-ViT-H-14-laion2B-s32B-b79K.
"""

from __future__ import annotations

import contextlib
import contextvars

import torch

from genvc.errors import ModelError

WAN_FLF2V_14B_TRANSFORMER = dict(
    patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128, in_channels=36, out_channels=16,
    text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
    eps=1e-6, image_dim=1280, added_kv_proj_dim=5120, rope_max_seq_len=1024, pos_embed_seq_len=257 * 2,
)
WAN21_VAE: dict = {}  # AutoencoderKLWan's defaults are the Wan2.1 VAE (base_dim 96, z_dim 16, dim_mult [1, 2, 4, 4])
UMT5_XXL = dict(
    vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
    relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="gated-gelu",
    layer_norm_epsilon=1e-6,
)
CLIP_VIT_H14 = dict(
    hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16, image_size=224,
    patch_size=14, hidden_act="gelu", layer_norm_eps=1e-5, projection_dim=1024,
)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

PUBLISHED = {"transformer": WAN_FLF2V_14B_TRANSFORMER, "vae": WAN21_VAE, "image_encoder": CLIP_VIT_H14,
             "text_encoder": UMT5_XXL}

_ARCHITECTURES = contextvars.ContextVar("genvc_architectures", default=None)


@contextlib.contextmanager
def architecture_only(architectures: dict | None = None):
    """Inside, each pretrained part ("transformer", "vae", "image_encoder", "text_encoder") is built on the meta
    device from its published config, or from `architectures[part]` (e.g. tiny stand-ins for a CPU check),
    instead of being read from disk. The parts genvc trains itself (compressor, entropy model) are built as usual;
    LoRA adapters follow their base layers onto the meta device."""
    token = _ARCHITECTURES.set({**PUBLISHED, **(architectures or {})})
    try:
        yield
    finally:
        _ARCHITECTURES.reset(token)


def is_architecture_only() -> bool:
    return _ARCHITECTURES.get() is not None


def _empty(part: str, build):
    from accelerate import init_empty_weights

    with init_empty_weights():
        return build(_ARCHITECTURES.get()[part])


def torch_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ModelError(f"frozen_dtype={name!r}; expected one of {sorted(DTYPES)}")
    return DTYPES[name]


def cast(model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """Cast to `dtype` as diffusers' `from_pretrained(torch_dtype=...)` does: the modules a diffusers class keeps
    in float32 (`_keep_in_fp32_modules`: Wan's norms, time embedder, modulation tables) stay float32."""
    from diffusers import ModelMixin

    torch.nn.Module.to(model, dtype)
    keep = tuple(getattr(model, "_keep_in_fp32_modules", None) or ()) if isinstance(model, ModelMixin) else ()
    if keep and dtype != torch.float32:
        for name, module in model.named_modules():
            if any(part in keep for part in name.split(".")):
                torch.nn.Module.to(module, torch.float32)
    return model


def _tied(model):
    """Tie what transformers ties (umT5: encoder.embed_tokens is `shared`): under init_empty_weights its own
    `tie_weights` leaves two meta copies, which would count the 1.05B-parameter vocabulary twice."""
    keys = getattr(model, "_tied_weights_keys", None)
    for target, source in (keys.items() if isinstance(keys, dict) else ()):
        parent, _, name = target.rpartition(".")
        model.get_submodule(parent)._parameters[name] = model.get_parameter(source)
    return model


def _failed(what: str, source: str, exc: Exception) -> ModelError:
    return ModelError(f"cannot load the {what} from {source!r} (download Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers or "
                      f"point the config at a local copy): {exc}")


def _load_diffusers(cls, source: str, subfolder: str, what: str, dtype: torch.dtype):
    """A diffusers model from `<source>/<subfolder>` (or its empty architecture), in `dtype`."""
    if is_architecture_only():
        return cast(_empty(subfolder, lambda c: cls(**c)), dtype)
    try:
        return cls.from_pretrained(source, subfolder=subfolder, torch_dtype=dtype)
    except (OSError, ValueError) as exc:
        raise _failed(what, source, exc) from exc


def load_transformer(source: str, dtype: torch.dtype):
    from diffusers import WanTransformer3DModel

    return _load_diffusers(WanTransformer3DModel, source, "transformer", "Wan transformer", dtype)


def load_vae(source: str, dtype: torch.dtype):
    from diffusers import AutoencoderKLWan

    return _load_diffusers(AutoencoderKLWan, source, "vae", "Wan VAE", dtype)


def load_clip(source: str, dtype: torch.dtype):
    """(CLIPVisionModel, CLIPImageProcessor) of `<source>/image_encoder` and `<source>/image_processor`."""
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    if is_architecture_only():
        model = _empty("image_encoder", lambda c: CLIPVisionModel(CLIPVisionConfig(**c)))
        side = model.config.image_size  # the OpenAI-CLIP processor (resize short side, centre crop) at that size
        processor = CLIPImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side})
        return _tied(cast(model, dtype)), processor
    try:
        model = CLIPVisionModel.from_pretrained(source, subfolder="image_encoder", dtype=dtype)
        return model, CLIPImageProcessor.from_pretrained(source, subfolder="image_processor")
    except (OSError, ValueError) as exc:
        raise _failed("CLIP image encoder", source, exc) from exc


def load_text_encoder(source: str, dtype: torch.dtype):
    """(UMT5EncoderModel, tokenizer) of `<source>/text_encoder` and `<source>/tokenizer`."""
    from transformers import AutoTokenizer, UMT5Config, UMT5EncoderModel

    if is_architecture_only():
        return _tied(cast(_empty("text_encoder", lambda c: UMT5EncoderModel(UMT5Config(**c))), dtype)), None
    try:
        model = UMT5EncoderModel.from_pretrained(source, subfolder="text_encoder", dtype=dtype)
        return model, AutoTokenizer.from_pretrained(source, subfolder="tokenizer")
    except (OSError, ValueError) as exc:
        raise _failed("umT5 text encoder", source, exc) from exc
