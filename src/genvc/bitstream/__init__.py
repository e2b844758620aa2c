"""The `.gvc` container: a stream header, then keyframe and clip units, each `type | length | payload | CRC32`.

See `format.py` for the byte layout and the writer, `reader.py` for the reader, and `limits.py` for the bounds every field is checked against before use.
Any malformed input raises `genvc.errors.FormatError`.
"""

from genvc.bitstream.format import (
    MAGIC,
    VERSION,
    ClipUnit,
    KeyframeUnit,
    Stream,
    StreamHeader,
    StreamWriter,
    write_stream,
)
from genvc.bitstream.reader import read_stream, unit_sizes
from genvc.bitstream.sections import Section

__all__ = [
    "MAGIC", "VERSION", "ClipUnit", "KeyframeUnit", "Section", "Stream", "StreamHeader", "StreamWriter",
    "read_stream", "unit_sizes", "write_stream",
]
