"""Text condition: an optional caption per clip, supplied by the user or by any `Captioner` (e.g. a VLM).

Both codings store the caption as UTF-8 (short captions do not shrink under a generic entropy coder).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from genvc.bitstream.sections import Section
from genvc.conditions.bitio import ByteReader, ByteWriter, Coding
from genvc.errors import FormatError, InputError

MAX_TEXT_BYTES = 4096


class Captioner(Protocol):
    def __call__(self, frames: np.ndarray) -> str:
        """(T, H, W, 3) uint8 RGB -> one caption for the clip."""


def encode_text(text: str, coding: Coding) -> bytes:
    data = text.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        raise InputError(f"caption is {len(data)} bytes of UTF-8, at most {MAX_TEXT_BYTES} allowed")
    out = ByteWriter()
    out.header(Section.TEXT, coding)
    out.u16(len(data))
    out.raw(data)
    return out.getvalue()


def decode_text(data: bytes) -> str:
    reader = ByteReader(data, "text")
    reader.header(Section.TEXT)
    length = reader.u16()
    if length > MAX_TEXT_BYTES:
        raise FormatError(f"caption length {length} over the limit {MAX_TEXT_BYTES}")
    raw = reader.take(length)
    reader.finish()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"caption is not valid UTF-8: {exc}") from None
