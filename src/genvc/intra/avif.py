"""AVIF stills through Pillow (libavif). The container is kept: Pillow needs it to decode."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from genvc.errors import FormatError
from genvc.intra.base import IntraCodec


class AVIFCodec(IntraCodec):
    name = "avif"
    qualities = range(100, -1, -1)  # Pillow quality: 100 best, 0 smallest

    def encode(self, image: np.ndarray, quality: int) -> bytes:
        out = io.BytesIO()
        Image.fromarray(image).save(out, format="AVIF", quality=quality, speed=6, subsampling="4:2:0")
        return out.getvalue()

    def decode(self, data: bytes, width: int, height: int) -> np.ndarray:
        try:
            with Image.open(io.BytesIO(data)) as img:
                # The size is known from the header: check it before decoding, so a tiny file claiming a huge
                # picture is refused without allocating it.
                if img.size != (width, height):
                    raise FormatError(f"AVIF keyframe is {img.size[0]}x{img.size[1]}, expected {width}x{height}")
                image = np.asarray(img.convert("RGB"))
        except FormatError:
            raise
        except Exception as exc:  # Pillow raises many types on corrupt input
            raise FormatError(f"corrupt AVIF keyframe: {exc}") from None
        if image.shape[:2] != (height, width):
            raise FormatError(f"AVIF keyframe is {image.shape[1]}x{image.shape[0]}, expected {width}x{height}")
        return image
