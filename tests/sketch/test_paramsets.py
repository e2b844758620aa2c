"""The sketch payload: leading parameter sets deflated against the format's dictionary, lossless and checked."""

import hashlib
import zlib

import numpy as np
import pytest

from genvc.bitstream.varint import encode_varint
from genvc.errors import FormatError
from genvc.inter import paramsets
from genvc.inter.vvc import downsample, encode_small
from genvc.intra import elementary


@pytest.fixture(scope="module")
def annexb():
    from genvc.inter.vvc import vvenc_annexb

    frames = np.random.default_rng(0).integers(0, 256, (3, 72, 200, 3), dtype=np.uint8)  # a size not in the dictionary
    return vvenc_annexb(frames, 40, 25.0)


def test_pack_is_lossless_and_shrinks_the_parameter_sets(annexb):
    packed = paramsets.pack(annexb)
    assert elementary.vvc_units(paramsets.unpack(packed)) == elementary.vvc_units(annexb)
    plain = elementary.strip_vvc(annexb)
    assert len(plain) - len(packed) > 200  # ~260 bytes of SPS/PPS become ~20


def test_the_dictionary_is_the_one_the_format_names():
    assert hashlib.sha256(paramsets.dictionary()).hexdigest() == paramsets.DICTIONARY_SHA256


def test_a_sketch_encodes_to_packed_units_that_decode():
    frames = np.random.default_rng(1).integers(0, 256, (4, 40, 64, 3), dtype=np.uint8)
    data = encode_small(downsample(frames, 1), 40, 25.0)
    annexb = paramsets.unpack(data)
    assert elementary.nal_type("vvc", elementary.vvc_units(annexb)[0]) == 15  # the SPS leads, as vvenc wrote it


@pytest.mark.parametrize("forge", ["garbage", "bomb", "truncated", "long_length"])
def test_a_forged_payload_is_a_format_error(annexb, forge):
    packed = paramsets.pack(annexb)
    if forge == "garbage":
        data = encode_varint(4) + b"\xff\xff\xff\xff" + packed
    elif forge == "bomb":  # a few bytes inflating to megabytes
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=paramsets.dictionary())
        bomb = deflate.compress(bytes(10_000_000)) + deflate.flush()
        data = encode_varint(len(bomb)) + bomb
    elif forge == "truncated":
        data = packed[:3]
    else:
        data = encode_varint(10**6) + packed
    with pytest.raises(FormatError):
        paramsets.unpack(data)


@pytest.mark.slow
def test_the_dictionary_tool_rebuilds_it_exactly(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    tool = Path(__file__).parents[2] / "tools" / "make_paramset_dict.py"
    subprocess.run([sys.executable, str(tool), "-o", str(tmp_path / "d.bin")], check=True, capture_output=True)
    assert (tmp_path / "d.bin").read_bytes() == paramsets.dictionary()
