"""Golden streams: `.gvc` files written once (tests/data/golden, by its make_golden.py) that today's genvc must
still decode as it did, so an old stream cannot silently stop decoding or decode differently.

Per stream (manifest.json): the file is the one pinned (sha256: no accidental regeneration); its format version is
the current `VERSION`; generator-off streams decode to exactly the pinned frames (sha256); generator-on streams to
within a PSNR floor of the pinned output (torch float kernels differ a little across CPUs). The encoder must also
still write the same bytes for the generator-off sketch and interp inputs.

A failure here means the format or the decoder changed. If that is intended: bump `VERSION` in
`genvc/bitstream/format.py`, regenerate with `python tests/data/golden/make_golden.py`, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from genvc.bitstream import VERSION, read_stream
from genvc.codec import decode, encode
from genvc.errors import GenvcError

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())
STREAMS = MANIFEST["streams"]
OFF = [n for n, s in STREAMS.items() if not s["generator"]]
ON = [n for n, s in STREAMS.items() if s["generator"]]
RULE = ("the format or the decoder changed: fix it if unintended; an intended format change must bump VERSION in "
        "genvc/bitstream/format.py and regenerate the golden streams (python tests/data/golden/make_golden.py), "
        "saying so in the commit")
REGENERATE = ("a format change bumps VERSION in genvc/bitstream/format.py and, in the same commit (saying so), "
              "regenerates the golden streams: python tests/data/golden/make_golden.py")

#: the inputs whose encode must still give the golden bytes. Only generator-off sketch and interp: their encoders
#: are integer codecs (AV1 via ffmpeg, VVC) at fixed settings (no --bpp: no search, no float judge). The learned
#: methods' encoders quantise float network outputs (flowib's h, multic's optical-flow condition), where a last-bit
#: difference on another CPU may flip a quantised value, and the generator-on encodes judge candidates by float
#: metrics (and take ~5-10 s each here).
REENCODED = ["sketch_off", "interp"]


def _load_make_golden():
    spec = importlib.util.spec_from_file_location("golden_make_golden", GOLDEN / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in tests/data/golden
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes
    return module


make_golden = _load_make_golden()


def _data(name: str) -> bytes:
    return (GOLDEN / STREAMS[name]["file"]).read_bytes()


def _check_version(name: str) -> bytes:
    data = _data(name)
    if data[4] != VERSION:
        pytest.fail(f"golden stream {name} is .gvc version {data[4]}, this genvc reads and writes version {VERSION}: "
                    f"{REGENERATE}")
    return data


@pytest.fixture(scope="module")
def decoded():
    """`decoded(name)`: the stream's decoded frames, each stream decoded once for the module."""
    cache: dict = {}

    def get(name: str) -> np.ndarray:
        if name not in cache:
            data = _check_version(name)
            try:
                cache[name] = decode(data).frames
            except GenvcError as exc:
                pytest.fail(f"golden stream {name} no longer decodes ({type(exc).__name__}: {exc}): {RULE}")
        return cache[name]

    return get


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def test_the_golden_set_covers_every_method_and_both_kinds_of_keyframe():
    assert {s["method"] for s in STREAMS.values()} >= {"sketch", "interp", "flowib", "multic"}
    assert OFF and ON
    codecs = {k.codec_id for name in STREAMS for k in read_stream(_check_version(name)).keyframes}
    assert 0 in codecs and codecs - {0}, "derived (0) and coded keyframes"
    total = sum(p.stat().st_size for p in GOLDEN.iterdir() if p.is_file())
    assert total < 100_000, f"tests/data/golden holds {total} bytes"


@pytest.mark.parametrize("name", list(STREAMS))
def test_file_is_the_pinned_one(name):
    assert hashlib.sha256(_data(name)).hexdigest() == STREAMS[name]["sha256"], (
        f"{STREAMS[name]['file']} is not the pinned stream: golden streams are regenerated only with a .gvc "
        f"VERSION bump ({REGENERATE})")


@pytest.mark.parametrize("name", list(STREAMS))
def test_format_version_is_current(name):
    assert STREAMS[name]["version"] == MANIFEST["version"] == VERSION, (
        f"the golden manifest pins .gvc version {STREAMS[name]['version']}, this genvc reads and writes version "
        f"{VERSION}: {REGENERATE}")
    _check_version(name)


@pytest.mark.parametrize("name", OFF)
def test_generator_off_decodes_to_the_pinned_frames(name, decoded):
    entry = STREAMS[name]
    frames = decoded(name)
    assert frames.shape == (entry["frames"], entry["height"], entry["width"], 3)
    assert make_golden.frames_sha256(frames) == entry["decoded_sha256"], (
        f"golden stream {name} ({entry['method']}, generator off) no longer decodes to the pinned frames: {RULE}")


@pytest.mark.parametrize("name", ON)
def test_generator_on_decodes_within_the_pinned_psnr(name, decoded):
    entry = STREAMS[name]
    frames = decoded(name)
    reference = make_golden.read_reference(GOLDEN / entry["reference"], entry["frames"])
    assert frames.shape == reference.shape == (entry["frames"], entry["height"], entry["width"], 3)
    value = psnr(frames, reference)
    assert value >= entry["psnr_floor"], (
        f"golden stream {name} ({entry['method']}, generator on) decodes {value:.2f} dB from the pinned output, "
        f"below its floor of {entry['psnr_floor']} dB: {RULE}")


@pytest.mark.parametrize("name", REENCODED)
def test_encoder_still_writes_the_golden_bytes(name):
    _check_version(name)
    assert encode(make_golden.source(name), make_golden.config(name)) == _data(name), (
        f"encoding the synthetic input of {name} no longer gives the golden stream's bytes: the encoder's "
        f"behaviour changed (fix it if unintended; {REGENERATE})")
