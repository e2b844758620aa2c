"""The generator p_theta: a first/last-frame-conditioned flow transformer (diffusers `WanTransformer3DModel`).

Input channels, in this order: x_t (16) | keyframe mask (4) | keyframe condition latents (16) — Wan FLF2V's
36-channel layout — then z (16, standard-path ablation only) and the Multi-C modality latents (16 each). With
pretrained Wan weights the patch embedding is widened with zero-initialised input channels for the extras, so the
pretrained model's function is unchanged at the start of fine-tuning.
"""

from __future__ import annotations

import torch
from torch import nn

from genvc.errors import ModelError
from genvc.models.config import GeneratorConfig
from genvc.models.wan_pretrained import load_transformer
from genvc.models.text_encoder import empty_prompt_embedding

WAN_CONDITION_CHANNELS = 16 + 4 + 16
WAN_TEXT_TOKENS = 512  # hard-coded in diffusers' WanAttnProcessor when image tokens are present


def _widen_patch_embedding(conv: nn.Conv3d, in_channels: int) -> nn.Conv3d:
    wider = nn.Conv3d(in_channels, conv.out_channels, conv.kernel_size, conv.stride, dtype=conv.weight.dtype,
                      device=conv.weight.device)
    with torch.no_grad():
        wider.weight.zero_()
        wider.weight[:, : conv.in_channels] = conv.weight
        wider.bias.copy_(conv.bias)
    return wider


class FlowGenerator(nn.Module):
    """`frozen_dtype`: dtype of pretrained weights (bf16 for the 14B: 33 GB instead of 66 GB); what trains under
    LoRA (adapters, a widened patch embedding) stays float32."""

    def __init__(self, config: GeneratorConfig, in_channels: int, latent_channels: int = 16,
                 frozen_dtype: torch.dtype = torch.float32):
        super().__init__()
        if config.kind != "wan":
            raise ModelError(f"unknown generator kind {config.kind!r}; only 'wan' (WanTransformer3DModel) exists")
        from diffusers import WanTransformer3DModel

        self.pretrained = bool(config.pretrained)
        self.compute_dtype = frozen_dtype if self.pretrained else torch.float32
        if self.pretrained:
            model = load_transformer(config.pretrained, frozen_dtype)
        else:
            model = WanTransformer3DModel(
                **{**config.transformer_config, "in_channels": in_channels, "out_channels": latent_channels}
            )
        base_in = model.config.in_channels
        if base_in > in_channels:
            raise ModelError(f"transformer takes {base_in} input channels but the model feeds only {in_channels}")
        self.widened = base_in < in_channels
        if self.widened:
            model.patch_embedding = _widen_patch_embedding(model.patch_embedding, in_channels)
        self.transformer = model
        text_dim = model.config.text_dim
        if self.pretrained:
            # Real weights: Wan's empty-prompt umT5 embedding (zeros without a text encoder); not trained.
            text = torch.zeros(1, config.text_tokens, text_dim)
            if config.text_encoder:
                text = empty_prompt_embedding(config.text_encoder, frozen_dtype, config.text_tokens, text_dim)
            self.register_buffer("text_embedding", text)
        else:
            self.text_embedding = nn.Parameter(torch.zeros(1, config.text_tokens, text_dim).normal_(std=0.02))
        self.text_encoder_source = config.text_encoder
        self.image_dim = model.config.image_dim
        self.image_encoder = None
        if self.image_dim is not None:
            self.image_encoder = _image_encoder(config, frozen_dtype)
        if config.gradient_checkpointing:
            model.enable_gradient_checkpointing()
        if config.lora:
            self.add_lora(config.lora_rank, config.lora_alpha, config.lora_targets)

    def add_lora(self, rank: int, alpha: int, targets: tuple[str, ...]) -> None:
        """Freeze the transformer and add peft LoRA adapters; a widened patch embedding stays trainable."""
        from peft import LoraConfig, inject_adapter_in_model

        self.transformer.requires_grad_(False)
        inject_adapter_in_model(LoraConfig(r=rank, lora_alpha=alpha, target_modules=list(targets)), self.transformer)
        for name, module in self.transformer.named_modules():
            if name.endswith((".lora_A", ".lora_B")):
                module.float()  # peft follows the base layer's dtype: adapters train in float32 (peft casts inputs)
        if self.widened:
            embed = self.transformer.patch_embedding.float().requires_grad_(True)
            if self.compute_dtype != torch.float32:  # the frozen blocks after it take the frozen dtype
                embed.register_forward_hook(lambda _module, _inputs, out: out.to(self.compute_dtype))
        if isinstance(self.text_embedding, nn.Parameter):
            self.text_embedding.requires_grad_(False)

    def forward(self, hidden_states: torch.Tensor, t: torch.Tensor, image_embeds: torch.Tensor | None = None,
                text_embeds: torch.Tensor | None = None) -> torch.Tensor:
        """Velocity at flow time t in [0, 1] (B,), given the channel-concatenated inputs (B x C_in x T' x H' x W');
        `text_embeds` (1 or B x text_tokens x D, e.g. an encoded caption) replaces the constant text input."""
        if self.image_dim is not None and image_embeds is None:
            raise ModelError("this Wan transformer expects CLIP image embeddings (image_dim is set); "
                             "pass image_embeds (GenvcModel.image_embeddings of the keyframes)")
        dtype = self.compute_dtype
        text = self.text_embedding if text_embeds is None else text_embeds
        if tuple(text.shape[1:]) != tuple(self.text_embedding.shape[1:]):
            raise ModelError(f"text embeddings of shape {tuple(text.shape)}; the generator takes "
                             f"(B, {self.text_embedding.shape[1]}, {self.text_embedding.shape[2]})")
        text = text.expand(hidden_states.shape[0], -1, -1).to(dtype)
        if image_embeds is not None:
            image_embeds = image_embeds.to(dtype)
        out = self.transformer(
            hidden_states.to(self.transformer.patch_embedding.weight.dtype), timestep=t * 1000.0,
            encoder_hidden_states=text,
            encoder_hidden_states_image=image_embeds, return_dict=False,
        )[0]
        return out.float()


def _image_encoder(config: GeneratorConfig, dtype: torch.dtype):
    """The frozen CLIP encoder an FLF2V transformer (image_dim set) needs."""
    if not config.image_encoder:
        raise ModelError("the Wan transformer has image_dim set (FLF2V) but generator.image_encoder names no "
                         "CLIP image encoder")
    if config.text_tokens != WAN_TEXT_TOKENS:
        raise ModelError(f"with image_dim set diffusers' Wan attention needs exactly {WAN_TEXT_TOKENS} text tokens, "
                         f"not text_tokens={config.text_tokens}")
    from genvc.models.image_encoder import KeyframeImageEncoder

    return KeyframeImageEncoder(config.image_encoder, dtype)
