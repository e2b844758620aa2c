"""Fixed colours for rendered conditions, the same at encoder and decoder."""

from __future__ import annotations

import colorsys

import numpy as np


def label_colours(count: int = 256) -> np.ndarray:
    """(count, 3) uint8 RGB; neighbouring labels get well separated hues (golden-ratio steps)."""
    colours = []
    for i in range(count):
        hue = (i * 0.618033988749895) % 1.0
        value = 0.95 if i % 2 == 0 else 0.7
        colours.append([round(255 * c) for c in colorsys.hsv_to_rgb(hue, 0.75, value)])
    return np.array(colours, dtype=np.uint8)


LABEL_COLOURS = label_colours()
