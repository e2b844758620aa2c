"""Contact sheet: a few sampled frames (rows) × original and each rendered condition overlaid (columns)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

COLUMNS = ("original", "segmentation", "pose", "flow")


def overlay(frame: np.ndarray, rendered: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """Rendered condition over a dimmed frame; black (empty) condition pixels show the frame."""
    drawn = rendered.any(-1, keepdims=True)
    base = (frame.astype(np.float32) * 0.5)
    mixed = np.where(drawn, (1 - alpha) * base + alpha * rendered, base)
    return mixed.clip(0, 255).astype(np.uint8)


def contact_sheet(frames: np.ndarray, rendered: dict[str, np.ndarray], rows: int = 4, max_width: int = 320
                  ) -> Image.Image:
    """Rows = `rows` evenly spaced frames; a missing modality gets a grey tile saying so."""
    t, h, w = frames.shape[:3]
    scale = min(1.0, max_width / w)
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    label_h = 18
    indices = np.unique(np.linspace(0, t - 1, min(rows, t)).round().astype(int))
    sheet = Image.new("RGB", (tw * len(COLUMNS), label_h + th * len(indices)), (32, 32, 32))
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(COLUMNS):
        draw.text((c * tw + 4, 3), name, fill=(255, 255, 255))
    for r, i in enumerate(indices):
        for c, name in enumerate(COLUMNS):
            if name == "original":
                tile = frames[i]
            elif name in rendered:
                tile = overlay(frames[i], rendered[name][i])
            else:
                tile = np.full_like(frames[i], 64)
            image = Image.fromarray(tile).resize((tw, th), Image.BILINEAR)
            sheet.paste(image, (c * tw, label_h + r * th))
            if name == "original":
                draw.text((c * tw + 4, label_h + r * th + 3), f"frame {i}", fill=(255, 255, 0))
            elif name not in rendered:
                draw.text((c * tw + 4, label_h + r * th + th // 2), "absent", fill=(200, 200, 200))
    return sheet
