"""Frozen CLIP image tokens of the two keyframes, as diffusers' `WanImageToVideoPipeline.encode_image` builds them
for Wan2.1 FLF2V: `CLIPVisionModel(...).hidden_states[-2]` of the first and the last frame. The preprocessing of
`CLIPImageProcessor` (resize the short side, centre crop, normalise) is redone in torch so it runs on batched
tensors in [-1, 1] without PIL."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genvc.models.wan_pretrained import load_clip


def _size_value(size, key: str):
    value = size.get(key) if hasattr(size, "get") else None
    return int(value) if value is not None else None


class KeyframeImageEncoder(nn.Module):
    """Loads `CLIPVisionModel` from `<pretrained>/image_encoder` and `CLIPImageProcessor` from
    `<pretrained>/image_processor`. Never trained: its weights stay external (not in our weights file)."""

    def __init__(self, pretrained: str, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.model, processor = load_clip(pretrained, dtype)
        self.model.requires_grad_(False).eval()
        self.shortest_edge = _size_value(processor.size, "shortest_edge") if processor.do_resize else None
        resize_hw = (_size_value(processor.size, "height"), _size_value(processor.size, "width"))
        self.resize_hw = resize_hw if processor.do_resize and None not in resize_hw else None
        crop = processor.crop_size if processor.do_center_crop else None
        self.crop_hw = (_size_value(crop, "height"), _size_value(crop, "width")) if crop else None
        self.register_buffer("mean", torch.tensor(processor.image_mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(processor.image_std).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True):
        return super().train(False)  # frozen: always in eval mode

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """B x 3 x H x W in [-1, 1] -> the CLIP pixel values (bicubic resize, centre crop, normalise)."""
        images = (images.float() + 1) / 2
        height, width = images.shape[2:]
        size = self.resize_hw
        if self.shortest_edge is not None:
            scale = self.shortest_edge / min(height, width)
            size = (max(1, round(height * scale)), max(1, round(width * scale)))
        if size is not None and size != (height, width):
            images = F.interpolate(images, size=size, mode="bicubic", antialias=True, align_corners=False)
        if self.crop_hw is not None:
            images = _center_crop(images, self.crop_hw)
        return (images.clamp(0, 1) - self.mean) / self.std

    @torch.no_grad()
    def forward(self, first: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """(2B) x N x D tokens ordered first_0, last_0, first_1, ...: the transformer's FLF2V image embedder folds
        consecutive pairs into one 2N-token sequence per clip."""
        images = torch.stack([first, last], dim=1).flatten(0, 1)
        dtype = self.model.dtype
        pixels = self.preprocess(images).to(dtype)
        return self.model(pixel_values=pixels, output_hidden_states=True).hidden_states[-2]


def _center_crop(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    height, width = images.shape[2:]
    crop_h, crop_w = size
    pad_h, pad_w = max(0, crop_h - height), max(0, crop_w - width)
    if pad_h or pad_w:  # as the processor: pad smaller images with zeros, centred
        images = F.pad(images, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        height, width = images.shape[2:]
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return images[:, :, top: top + crop_h, left: left + crop_w]
