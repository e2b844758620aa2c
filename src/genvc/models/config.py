"""Dataclass configs of the FLOW-IB / Multi-C model. One `ModelConfig` describes a whole `GenvcModel` and is what
`config.json` holds, so a saved model rebuilds from its folder alone."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from genvc.errors import InputError, ModelError
from genvc.utils.strict import from_dict

WAN_FLF2V_REPO = "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers"


@dataclass
class VAEConfig:
    """`kind="small"`: our causal 3D-conv VAE. `kind="wan"`: diffusers `AutoencoderKLWan`, from `pretrained`
    (hub id or local folder, subfolder "vae") or, when `pretrained` is None, from `wan_config` (tiny test models)."""

    kind: str = "small"
    latent_channels: int = 16
    # small VAE
    base_channels: int = 32
    channel_mult: tuple[int, ...] = (1, 2, 4)
    unshuffle: int = 2  # 2x2 pixel-unshuffle before the first conv: a measured win on CPU (DESIGN.md)
    kl_weight: float = 1e-6  # stage="vae" regulariser towards N(0, I)
    # Wan VAE
    pretrained: str | None = None
    wan_config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        # JSON has no tuples and diffusers' Wan VAE needs lists (it does `[1] + dim_mult`): keep lists
        self.wan_config = {k: list(v) if isinstance(v, tuple) else v for k, v in self.wan_config.items()}


@dataclass
class CompressorConfig:
    """q_phi. `strides` are the extra (t, h, w) down-sampling stages after the VAE.

    Default ((1,2,2), (2,2,2), (1,2,2)) = 2x8x8 in total: the paper's text (sec. 3.4) says 2x8x8 and its headline
    numbers (32,768x, 0.0078 bpp for 16 bf16 channels) only hold for 2x8x8; its appendix lists 1x2x2, 2x2x2, 2x2x2
    (= 4x8x8), which would halve that rate. We keep the appendix's progression (spatial first) with the text's total.
    """

    channels: int = 64
    strides: tuple[tuple[int, int, int], ...] = ((1, 2, 2), (2, 2, 2), (1, 2, 2))
    attention: tuple[bool, ...] = (False, True, True)  # self-attention per stage (full-resolution attention is costly)
    heads: int = 4
    h_channels: int = 16


@dataclass
class GeneratorConfig:
    """`kind="wan"`: diffusers `WanTransformer3DModel`; from `pretrained` (hub id/folder, subfolder "transformer")
    with peft LoRA (`lora_rank`, `lora_alpha`), or from `transformer_config` (small preset / tests).

    `image_encoder`: hub id/folder with subfolders "image_encoder" (`CLIPVisionModel`) and "image_processor"
    (`CLIPImageProcessor`), frozen; loaded only when the transformer has `image_dim` set (Wan2.1 FLF2V), which
    then also needs `text_tokens=512` (diffusers' Wan attention splits image/text tokens at a fixed 512).

    `text_encoder`: hub id/folder with subfolders "text_encoder" (`UMT5EncoderModel`) and "tokenizer": with
    pretrained weights the text input is its empty-prompt embedding (computed once, cached on disk) and a sent
    caption is encoded with it; None keeps a zero text input."""

    kind: str = "wan"
    pretrained: str | None = None
    transformer_config: dict[str, Any] = field(
        default_factory=lambda: dict(
            patch_size=(1, 2, 2), num_attention_heads=4, attention_head_dim=32, text_dim=32, freq_dim=64,
            ffn_dim=256, num_layers=4, image_dim=None, rope_max_seq_len=256,
        )
    )
    text_tokens: int = 4  # length of the constant (learned) text embedding; 512 for real Wan weights
    lora: bool = False  # freeze the transformer and train peft LoRA adapters (the "wan" preset does)
    lora_rank: int = 16
    lora_alpha: int = 16
    lora_targets: tuple[str, ...] = ("to_q", "to_k", "to_v", "to_out.0")
    gradient_checkpointing: bool = False
    image_encoder: str | None = None
    text_encoder: str | None = None

    def __post_init__(self):
        # one canonical form (tuples) so that a config equals itself after a JSON round trip
        self.transformer_config = {k: _tuplify(v) for k, v in self.transformer_config.items()}


@dataclass
class EntropyConfig:
    """How h is coded. "entropy": rounded to integers, rANS-coded under a Gaussian whose mean/scale are learned per
    channel or (context="keyframes") predicted from the keyframe latents the receiver already has. "bf16": the
    paper's raw bfloat16 h (16 bits per element)."""

    coding: str = "entropy"
    context: str = "keyframes"  # "keyframes" | "none"
    max_symbol: int = 63  # symbols are clamped to [-max_symbol, max_symbol]
    num_scales: int = 64
    scale_min: float = 0.11
    scale_max: float = 64.0
    precision: int = 16  # bits of the integer probability tables


@dataclass
class ModelConfig:
    preset: str = "small"
    name: str = "genvc-small"
    vae: VAEConfig = field(default_factory=VAEConfig)
    compressor: CompressorConfig = field(default_factory=CompressorConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    entropy: EntropyConfig = field(default_factory=EntropyConfig)
    beta: float = 1e-4
    rate_weight: float = 0.0  # extra weight on bits per latent element of h (0: only the paper's beta*KL)
    prior: str = "conditional"  # "conditional" (VAE of the keyframe-only clip) | "standard" (N(0, I))
    prior_min_sigma: float = 0.01  # floor on sigma_p (normalised latent units), see models.prior
    path: str = "reformed"  # "reformed" (z -> x) | "noise" (noise -> x with z on channels)
    sampling_steps: int = 4
    modalities: tuple[str, ...] = ()
    modality_dropout: float = 0.3
    role_embeddings: bool = True
    h_dropout: float = 0.0  # training: prob. of replacing z by the prior mean (teaches a Multi-C model to work without h)
    # dtype of the frozen pretrained parts (Wan transformer, VAE, CLIP, umT5); what we train stays float32
    frozen_dtype: str = "float32"  # "float32" | "bfloat16" | "float16"

    def __post_init__(self):
        choices = {"preset": ("small", "wan"), "prior": ("conditional", "standard"), "path": ("reformed", "noise"),
                   "frozen_dtype": ("float32", "bfloat16", "float16")}
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ModelError(f"config {key}={getattr(self, key)!r}; expected one of {allowed}")
        if self.entropy.coding not in ("entropy", "bf16"):
            raise ModelError(f"entropy.coding={self.entropy.coding!r}; expected 'entropy' or 'bf16'")
        if self.sampling_steps < 1:
            raise ModelError("sampling_steps must be >= 1")

    @classmethod
    def wan(cls, repo: str = WAN_FLF2V_REPO, **overrides) -> "ModelConfig":
        """The big preset: Wan2.1 FLF2V 14B + its VAE with LoRA r = alpha = 16 (paper sec. 4)."""
        cfg = cls(
            preset="wan", name="genvc-wan2.1-flf2v",
            vae=VAEConfig(kind="wan", pretrained=repo),
            generator=GeneratorConfig(pretrained=repo, transformer_config={}, text_tokens=512, lora=True,
                                      image_encoder=repo, text_encoder=repo, gradient_checkpointing=True),
            frozen_dtype="bfloat16",
        )
        return dataclasses.replace(cfg, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        try:
            return _build(cls, data)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"invalid model config: {exc}") from exc


def _build(cls, data: dict[str, Any]):
    """A model config dataclass from JSON data through the one config loader (`genvc.utils.strict`: unknown keys
    and wrong types refused by dotted key, lists made tuples where the field is a tuple); ValueError otherwise,
    which `from_dict` reports as a ModelError."""
    try:
        return from_dict(cls, data)
    except InputError as exc:
        raise ValueError(str(exc)) from None


def _tuplify(value):
    return tuple(_tuplify(v) for v in value) if isinstance(value, list) else value
