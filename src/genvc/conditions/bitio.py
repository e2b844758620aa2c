"""Byte-level helpers shared by the condition payloads: bounded reads, bfloat16 numbers, the payload header.

Every payload starts with the same three bytes: its section tag (so a payload filed under the wrong tag is
refused), the coding mode, and a format version. Every read is bounds-checked and raises `FormatError`.
"""

from __future__ import annotations

import struct
from enum import IntEnum

import numpy as np

from genvc.bitstream.varint import Reader
from genvc.errors import FormatError

FORMAT_VERSION = 0
MAX_FRAMES = 4096  # frames in one clip
MAX_SIDE = 16384  # pixels


class Coding(IntEnum):
    BF16 = 0  # the paper's format: every number as bfloat16, 2 bytes
    ENTROPY = 1  # quantized, predicted, rANS coded (constriction)

    @classmethod
    def parse(cls, name: "str | Coding") -> "Coding":
        if isinstance(name, Coding):
            return name
        try:
            return {"bf16": cls.BF16, "entropy": cls.ENTROPY}[name]
        except KeyError:
            raise ValueError(f"coding must be 'bf16' or 'entropy', got {name!r}") from None


def to_bf16(values: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (uint16), rounding to nearest even; NaN stays NaN."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(values)
    return np.where(nan, 0x7FC0, rounded).astype(np.uint16)


def from_bf16(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


class ByteWriter:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, value: int) -> None:
        self._parts.append(struct.pack("<B", value))

    def u16(self, value: int) -> None:
        self._parts.append(struct.pack("<H", value))

    def raw(self, data: bytes) -> None:
        self._parts.append(bytes(data))

    def bf16(self, values: np.ndarray) -> None:
        self._parts.append(to_bf16(np.asarray(values, dtype=np.float32).ravel()).astype("<u2").tobytes())

    def header(self, tag: int, coding: Coding) -> None:
        self.u8(int(tag))
        self.u8(int(coding))
        self.u8(FORMAT_VERSION)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class ByteReader(Reader):
    """The bitstream's bounds-checked reader plus the fields condition payloads use."""

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def bf16(self, count: int) -> np.ndarray:
        return from_bf16(np.frombuffer(self.take(2 * count), dtype="<u2"))

    def header(self, tag: int) -> Coding:
        got_tag, coding, version = self.u8(), self.u8(), self.u8()
        if got_tag != int(tag):
            raise FormatError(f"{self.what} payload has tag {got_tag}, expected {int(tag)}")
        if coding not in (Coding.BF16, Coding.ENTROPY):
            raise FormatError(f"{self.what} payload has unknown coding mode {coding}")
        if version != FORMAT_VERSION:
            raise FormatError(f"{self.what} payload has format version {version}, this genvc reads {FORMAT_VERSION}")
        return Coding(coding)

    def finish(self) -> None:
        self.expect_end()


def check_limit(value: int, low: int, high: int, what: str) -> int:
    if not low <= value <= high:
        raise FormatError(f"{what} = {value} is outside [{low}, {high}]")
    return value


def check_clip_shape(num_frames: int, height: int, width: int) -> None:
    if not 1 <= num_frames <= MAX_FRAMES:
        raise FormatError(f"clip has {num_frames} frames, allowed 1..{MAX_FRAMES}")
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise FormatError(f"clip size {width}x{height} outside 1..{MAX_SIDE}")
