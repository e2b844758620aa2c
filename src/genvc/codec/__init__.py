"""The codec: video → clip plan → keyframes + per-clip sections → `.gvc`, and back.

Public API: `encode(video, EncodeConfig) -> bytes`, `decode(data) -> Video`, `iter_decode(data)` (frames one at
a time, for long videos), and the file helpers `encode_file` / `decode_file` used by the CLI.

- `config`: what an encode is asked for, and what it wrote;
- `encoder`: one pass of the encoder (plan, keyframes, clips to a pool, units written in stream order);
- `search`: the encoder's whole-stream searches (candidates, allocation) and its entry point `encode_stream`;
- `decoder`: the decoder;
- `files`: atomic file output for the CLI.
"""

from __future__ import annotations

import io

from genvc.codec.config import EncodeConfig, EncodeResult, target_bytes
from genvc.codec.decoder import decode, iter_decode
from genvc.codec.files import decode_file, encode_file, read_gvc
from genvc.codec.search import encode_stream
from genvc.io import Video
from genvc.io.source import MemorySource


def encode(video: Video, config: EncodeConfig | None = None) -> bytes:
    """Encode a whole video to `.gvc` bytes."""
    out = io.BytesIO()
    encode_stream(MemorySource(video), out, config or EncodeConfig())
    return out.getvalue()


__all__ = ["EncodeConfig", "EncodeResult", "decode", "decode_file", "encode", "encode_file", "encode_stream",
           "iter_decode", "read_gvc", "target_bytes"]
