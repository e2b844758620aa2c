"""Unsigned LEB128 integers with a hard byte limit, and a bounds-checked byte reader."""

from __future__ import annotations

from genvc.errors import FormatError

MAX_VARINT_BYTES = 5  # enough for 32-bit values


def encode_varint(value: int) -> bytes:
    if value < 0 or value >= 1 << 32:
        raise ValueError(f"varint out of range: {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class Reader:
    """Reads fields from a bytes object; running past its end raises FormatError, never IndexError."""

    def __init__(self, data: bytes, what: str = "stream") -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.what = what

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.remaining:
            raise FormatError(f"{self.what} truncated: needs {n} bytes, {self.remaining} left")
        chunk = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def varint(self, limit: int, field: str) -> int:
        """A varint that must be <= limit (checked here, so callers can size allocations by it)."""
        value = 0
        for i in range(MAX_VARINT_BYTES):
            byte = self.u8()
            value |= (byte & 0x7F) << (7 * i)
            if not byte & 0x80:
                if i and byte == 0:
                    raise FormatError(f"{self.what}: non-canonical varint in {field}")
                if value > limit:
                    raise FormatError(f"{self.what}: {field} = {value} exceeds limit {limit}")
                return value
        raise FormatError(f"{self.what}: varint in {field} is too long")

    def expect_end(self) -> None:
        if self.remaining:
            raise FormatError(f"{self.what} has {self.remaining} unexpected trailing bytes")
