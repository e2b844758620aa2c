"""The sketch: a clip coded as a low-resolution VVC inter stream (vvenc), the small preset's code.

At low rates a downscaled inter-coded clip upsampled at the decoder often beats both full-size coding and
keyframe-only interpolation (the encoder measures which scale wins, per clip, full size included); the embedded
generator (`genvc.methods.sketch`, P = the upsampled sketch) then restores detail at full size.
`genvc.inter.vvc` codes and decodes a sketch; `genvc.inter.scale_search` finds its scale and QP for a budget.
"""

from genvc.inter.scale_search import encode_sketch, fill_chroma
from genvc.inter.vvc import SketchCode, decode_sketch, decode_sketch_small, encode_sketch_at, upsample

__all__ = ["SketchCode", "decode_sketch", "decode_sketch_small", "encode_sketch", "encode_sketch_at", "fill_chroma",
           "upsample"]
