"""The sketch: a clip coded as a low-resolution VVC inter stream (vvenc), the small preset's code.

At ≤ 0.005 bpp a downscaled inter-coded clip upsampled at the decoder beats both full-size coding and
keyframe-only interpolation on our development clips (see bench/README.md); a learned refiner
(`genvc.models.refiner`) then restores detail at full size.
"""

from genvc.sketch.stream import (
    LADDER, SketchCode, decode_sketch, encode_sketch, encode_sketch_at, upsample,
)

__all__ = ["LADDER", "SketchCode", "decode_sketch", "encode_sketch", "encode_sketch_at", "upsample"]
