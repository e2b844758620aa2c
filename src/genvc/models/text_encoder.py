"""Wan's frozen umT5 text encoder: prompt embeddings exactly as diffusers' Wan pipelines build them
(`WanPipeline._get_t5_prompt_embeds`: tokens padded to 512, the encoder's last hidden state kept for the real
tokens, zeros after them), the empty-prompt embedding computed once and cached on disk, captions when sent.

The umT5-XXL encoder has 6.7B parameters (1.05B of them its vocabulary embedding): it is loaded only when a cache misses or a caption arrives, never kept
in the training model (the generator holds the cached empty-prompt embedding as a buffer)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import safetensors
import safetensors.torch
import torch

from genvc.errors import ModelError
from genvc.models.wan_pretrained import is_architecture_only, load_text_encoder
from genvc.utils.atomic import write_bytes_atomic


class PromptEncoder:
    """umT5 encoder + tokenizer (or any stand-ins with the same call signatures)."""

    def __init__(self, model, tokenizer, max_tokens: int = 512):
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens

    @classmethod
    def load(cls, source: str, dtype: torch.dtype, max_tokens: int = 512) -> "PromptEncoder":
        return cls(*load_text_encoder(source, dtype), max_tokens=max_tokens)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def encode(self, prompts: list[str]) -> torch.Tensor:
        """B x max_tokens x D float32: hidden states of the real tokens, zeros for the padding."""
        prompts = [" ".join(p.split()) for p in prompts]  # the pipelines' whitespace clean-up (without ftfy)
        tokens = self.tokenizer(prompts, padding="max_length", max_length=self.max_tokens, truncation=True,
                                add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
        ids, mask = tokens.input_ids.to(self.device), tokens.attention_mask.to(self.device)
        hidden = self.model(ids, mask).last_hidden_state.float()
        return hidden * mask.gt(0).unsqueeze(-1)


def _cache_file(source: str, max_tokens: int, cache_dir: Path | None) -> Path:
    if cache_dir is None:  # genvc's cache ($GENVC_CACHE or ~/.cache/genvc), beside the sample videos
        cache_dir = os.environ.get("GENVC_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "genvc")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source.rstrip("/").split("/")[-1])[-60:]
    key = hashlib.sha256(f"{source}|{max_tokens}".encode()).hexdigest()[:12]
    return Path(cache_dir) / "text" / f"{slug}-{key}.safetensors"


def empty_prompt_embedding(source: str, dtype: torch.dtype, max_tokens: int = 512, text_dim: int | None = None,
                           cache_dir: Path | None = None, encoder: PromptEncoder | None = None) -> torch.Tensor:
    """1 x max_tokens x D float32 embedding of "" (what Wan was trained with as the empty prompt), read from the
    cache (keyed by `source` and `max_tokens`) or computed once with the umT5 encoder of `source` and cached."""
    if is_architecture_only():  # counting on the meta device: the values do not matter
        return torch.zeros(1, max_tokens, text_dim or 4096)
    path = _cache_file(source, max_tokens, cache_dir)
    if path.is_file():
        try:
            embedding = safetensors.torch.load_file(str(path))["embedding"]
        except (OSError, KeyError, safetensors.SafetensorError) as exc:
            raise ModelError(f"corrupt cached text embedding {path} (delete it to recompute): {exc}") from exc
    else:
        encoder = encoder or PromptEncoder.load(source, dtype, max_tokens)
        embedding = encoder.encode([""]).cpu()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, safetensors.torch.save({"embedding": embedding.contiguous()},
                                                        metadata={"source": source}))
    if tuple(embedding.shape[:2]) != (1, max_tokens) or (text_dim is not None and embedding.shape[2] != text_dim):
        raise ModelError(f"text embedding of {source!r} is {tuple(embedding.shape)}; the transformer needs "
                         f"(1, {max_tokens}, {text_dim})")
    return embedding
