"""The sketch: a clip coded as a low-resolution VVC inter stream (vvenc), the small preset's code.

At low rates a downscaled inter-coded clip upsampled at the decoder often beats both full-size coding and
keyframe-only interpolation (the encoder measures which scale wins, per clip, full size included); the embedded generator
(`genvc.methods.sketch`, P = the upsampled sketch) then restores detail at full size.
"""

from genvc.inter.sketch import (
    LADDER, SketchCode, decode_sketch, decode_sketch_small, encode_sketch, encode_sketch_at, ladder_near,
    upsample,
)

__all__ = ["LADDER", "SketchCode", "decode_sketch", "decode_sketch_small", "encode_sketch", "encode_sketch_at",
           "ladder_near", "upsample"]
