"""The sketch's VVC NAL units in as few bytes as the decoder can take them back from.

vvenc starts every stream with a ~245-byte SPS and a ~12-byte PPS that differ between clips only in the picture
size (an Exp-Golomb field, so the bits after it shift). At 0.002-0.005 bpp a 45-frame 384×216 clip has 930-2300
bytes, and a multi-clip video repeats them per clip. The leading parameter sets are deflated (raw deflate,
`zlib`) against a preset dictionary of this vvenc's own SPS/PPS at 28 picture sizes (every bit alignment of the
tail): measured on 13 sizes outside the dictionary, 258-261 bytes → 12-24. Lossless whatever vvenc writes: a
different SPS only compresses less. Every other unit keeps a varint length.

    payload = varint(len(deflated)) | deflated(varint(len) | unit, for each leading parameter set)
              | (varint(len) | unit)*

The dictionary is part of the format (a sketch config of version 2 means this one, checked by its SHA-256);
`tools/make_paramset_dict.py` shows how it was made.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from importlib import resources

from genvc.bitstream.varint import Reader, encode_varint
from genvc.errors import FormatError
from genvc.intra.elementary import nal_type, vvc_units

#: VPS, SPS, PPS: the units that are the same in every clip but for the picture size
PARAMETER_SET_TYPES = frozenset({14, 15, 16})
DICTIONARY_FILE = "vvc_paramsets.bin"
DICTIONARY_SHA256 = "d4ce3f22fe00473cd46f85e09af5ce361e7bd897b3c1ece19e44991ab45d9e6f"
#: inflated parameter sets larger than this are refused (a forged stream cannot make the decoder inflate a bomb)
MAX_PARAMETER_SET_BYTES = 1 << 16


@functools.lru_cache(maxsize=1)
def dictionary() -> bytes:
    data = (resources.files("genvc.inter") / DICTIONARY_FILE).read_bytes()
    if hashlib.sha256(data).hexdigest() != DICTIONARY_SHA256:
        raise FormatError(f"{DICTIONARY_FILE} is not the dictionary this genvc's sketch format was made with")
    return data


def pack(annexb: bytes) -> bytes:
    """vvenc's Annex-B output → the sketch payload (decoder-needed units only)."""
    units = vvc_units(annexb)
    lead = 0
    while lead < len(units) and nal_type("vvc", units[lead]) in PARAMETER_SET_TYPES:
        lead += 1
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=dictionary())
    sets = deflate.compress(b"".join(encode_varint(len(u)) + u for u in units[:lead])) + deflate.flush()
    return encode_varint(len(sets)) + sets + b"".join(encode_varint(len(u)) + u for u in units[lead:])


def unpack(payload: bytes) -> bytes:
    """The sketch payload → an Annex-B stream for the decoder; FormatError on anything malformed."""
    reader = Reader(payload, "sketch")
    deflated = reader.take(reader.varint(len(payload), "parameter sets length"))
    inflate = zlib.decompressobj(-15, zdict=dictionary())
    try:
        sets = inflate.decompress(deflated, MAX_PARAMETER_SET_BYTES)
    except zlib.error:
        raise FormatError("sketch: the parameter sets do not inflate") from None
    if inflate.unconsumed_tail or not inflate.eof:
        raise FormatError("sketch: the parameter sets are truncated or too large")
    units = []
    for part in (Reader(sets, "sketch parameter sets"), reader):
        while part.remaining:
            units.append(part.take(part.varint(len(payload) + len(sets), "NAL length")))
    return b"".join(b"\x00\x00\x00\x01" + u for u in units)
