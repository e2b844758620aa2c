"""Seed streams and mutators for fuzzing the `.gvc` reader and decoder.

Seeds are real streams made by `genvc.codec.encode` (three intra codecs, several clip plans, clip units with
sections). Mutations come in two kinds:

* raw byte mutations (bit flips, truncation, extension, splicing, ...): these mostly exercise framing and the CRC;
* structured mutations on the unit list, after which every unit is re-framed with a correct length and CRC32, so
  the header / keyframe / clip parsers, the clip-plan checks and keyframe decoding are reached.
"""

from __future__ import annotations

import random
import zlib
from fractions import Fraction

import numpy as np

from genvc.bitstream import MAGIC, VERSION, read_stream, write_stream
from genvc.bitstream import limits
from genvc.bitstream.sections import Section
from genvc.bitstream.varint import encode_varint
from genvc.codec import EncodeConfig, encode
from genvc.io import Video

PREAMBLE = MAGIC + bytes([VERSION])
HEADER, KEYFRAME, CLIP = 1, 2, 3

# Values around every limit a field is checked against, plus varint edge cases.
INTERESTING = sorted({0, 1, 2, 3, 7, 8, 9, 127, 128, 255, 256, 16383, 16384, 4095, 4096, 4097, 8191, 8192, 8193,
                      limits.MAX_FRAMES - 1, limits.MAX_FRAMES, limits.MAX_FRAMES + 1,
                      limits.MAX_UNIT_BYTES - 1, limits.MAX_UNIT_BYTES, limits.MAX_UNIT_BYTES + 1,
                      limits.MAX_FPS_TERM - 1, limits.MAX_FPS_TERM, limits.MAX_FPS_TERM + 1,
                      limits.MAX_CLIP_FRAMES << 1, (limits.MAX_CLIP_FRAMES << 1) + 1, 2**31 - 1, 2**32 - 1})
ODD_VARINTS = [b"\x80\x00", b"\xff\xff\xff\xff\xff\x01", b"\x80", b"\xff" * 5, b""]


# ---------------------------------------------------------------- seeds

def moving_square(num_frames: int = 12, height: int = 48, width: int = 64, seed: int = 0) -> Video:
    rng = np.random.default_rng(seed)
    background = (rng.integers(0, 40, (height // 8 + 1, width // 8 + 1, 3)) + 80).astype(np.uint8)
    background = np.kron(background, np.ones((8, 8, 1), np.uint8))[:height, :width]
    frames = np.repeat(background[None], num_frames, axis=0).copy()
    for t in range(num_frames):
        x = 4 + 2 * t
        frames[t, height // 3:height // 3 + 12, x:x + 12] = (230, 200, 40)
    return Video(frames, Fraction(30000, 1001))


def with_sections(data: bytes, seed: int = 0) -> bytes:
    """The same stream with H / TEXT / CONFIG sections in every clip unit (interp ignores them when decoding)."""
    rng = random.Random(seed)
    stream = read_stream(data)
    for unit in stream.clips:
        unit.sections = {Section.H: rng.randbytes(rng.randrange(1, 40)), Section.TEXT: b"a yellow square",
                         Section.CONFIG: bytes([2, 4])}
    return write_stream(stream)


def make_seeds(real_sample: bool = True) -> dict[str, bytes]:
    """Valid streams covering the intra codecs, shared and unshared keyframes, 1-, 2- and many-frame plans."""
    square = moving_square()
    no_shots = dict(shot_detection=False, method="interp")
    seeds = {
        "av1_interval4": encode(square, EncodeConfig(intra="av1", interval=4, **no_shots)),
        "vvc_interval5": encode(square, EncodeConfig(intra="vvc", interval=5, **no_shots)),
        "avif_one_clip": encode(square, EncodeConfig(intra="avif", **no_shots)),
        "av1_1frame": encode(Video(square.frames[:1], 25), EncodeConfig(**no_shots)),
        "av1_2frames_17x9": encode(moving_square(2, 9, 17), EncodeConfig(**no_shots)),
    }
    seeds["av1_sections"] = with_sections(seeds["av1_interval4"])
    # the default small preset: sketch sections (a VVC inter stream) decoded by the embedded refiner
    seeds["sketch_interval6"] = encode(square, EncodeConfig(interval=6, shot_detection=False, keyframe_bytes=200))
    if real_sample:  # shot detection on a real clip with cuts: clips that do not share their start keyframe
        from genvc.io import read_video
        from genvc.samples import sample_path

        cuts = read_video(sample_path("cuts"), max_frames=40)
        seeds["cuts_shots_avif"] = encode(cuts, EncodeConfig(intra="avif", interval=12, method="interp"))
    return seeds


# ---------------------------------------------------------------- unit framing

def frame_unit(unit_type: int, payload: bytes) -> bytes:
    head = bytes([unit_type & 0xFF]) + encode_varint(len(payload))
    return head + payload + zlib.crc32(head + payload).to_bytes(4, "little")


def split_units(data: bytes) -> list[tuple[int, bytes]]:
    """(type, payload) of each unit of a valid stream (framing only, no checks)."""
    units, pos = [], len(PREAMBLE)
    while pos < len(data):
        unit_type, pos = data[pos], pos + 1
        length, shift = 0, 0
        while True:
            byte, pos = data[pos], pos + 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        units.append((unit_type, data[pos:pos + length]))
        pos += length + 4
    return units


def join_units(units: list[tuple[int, bytes]], preamble: bytes = PREAMBLE) -> bytes:
    return preamble + b"".join(frame_unit(t, p) for t, p in units)


def field_spans(unit_type: int, payload: bytes) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the leading fields of a unit payload, found leniently; kind is 'varint' or 'u8'."""
    spans, pos = [], 0

    def varint():
        nonlocal pos
        start = pos
        while pos < len(payload) and payload[pos] & 0x80:
            pos += 1
        pos = min(pos + 1, len(payload))
        spans.append((start, pos, "varint"))

    def u8():
        nonlocal pos
        if pos < len(payload):
            spans.append((pos, pos + 1, "u8"))
            pos += 1

    if unit_type == HEADER:
        for _ in range(5):
            varint()
        if pos < len(payload):
            model_len = payload[pos]
            u8()
            pos += model_len + 8
            while pos < len(payload):  # clip count, then one code per clip
                varint()
    elif unit_type == KEYFRAME:
        varint(), u8(), u8()
    elif unit_type == CLIP:
        varint(), u8(), u8()
        while pos < len(payload):  # per section: tag, length, bytes
            u8()
            start = pos
            varint()
            pos += sum((b & 0x7F) << (7 * k) for k, b in enumerate(payload[start:pos]))
    return [s for s in spans if s[0] < s[1]]


# ---------------------------------------------------------------- mutations

class Mutator:
    def __init__(self, seeds: dict[str, bytes], seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.seeds = list(seeds.values())
        self.units = [split_units(s) for s in self.seeds]

    def case(self) -> tuple[str, bytes]:
        """One mutated stream and a short name of what was done to it."""
        index = self.rng.randrange(len(self.seeds))
        if self.rng.random() < 0.35:
            data, ops = self.seeds[index], []
            for _ in range(self.rng.choice((1, 1, 2, 3))):
                op = self.rng.choice(RAW_OPS)
                data = op(self, data)
                ops.append(op.__name__)
            return "raw:" + "+".join(ops), data
        units, ops = list(self.units[index]), []
        for _ in range(self.rng.choice((1, 1, 1, 2, 3))):
            op = self.rng.choice(UNIT_OPS)
            units = op(self, units)
            ops.append(op.__name__)
        data = join_units(units)
        if self.rng.random() < 0.05:  # now and then a raw touch on top of a re-framed stream
            op = self.rng.choice(RAW_OPS)
            data = op(self, data)
            ops.append(op.__name__)
        return "crc:" + "+".join(ops), data

    # -- helpers
    def pos(self, data: bytes) -> int:
        return self.rng.randrange(len(data)) if data else 0

    def varint_bytes(self) -> bytes:
        if self.rng.random() < 0.1:
            return self.rng.choice(ODD_VARINTS)
        value = self.rng.choice(INTERESTING)
        if self.rng.random() < 0.3:
            value = max(0, min(2**32 - 1, value + self.rng.randint(-2, 2)))
        return encode_varint(value)

    def bytes_op(self, data: bytes) -> bytes:
        """A generic mutation of a byte string (used for whole files and for payloads)."""
        rng, data = self.rng, bytearray(data)
        kind = rng.randrange(7)
        p = self.pos(data)
        if kind == 0 and data:
            for _ in range(rng.choice((1, 1, 2, 8))):
                data[self.pos(data)] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:
            data[p] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)))
        elif kind == 2:
            del data[p:]
        elif kind == 3:
            data[p:p] = rng.randbytes(rng.choice((1, 2, 4, 16, 256)))
        elif kind == 4:
            del data[p:p + rng.choice((1, 2, 4, 16, 256))]
        elif kind == 5:
            data[p:p] = data[p:p + rng.choice((1, 8, 64))] * rng.choice((1, 2, 16))
        else:
            data[p:p] = self.varint_bytes()
        return bytes(data)


def raw_mutate(m: Mutator, data: bytes) -> bytes:
    return m.bytes_op(data)


def raw_truncate(m: Mutator, data: bytes) -> bytes:
    return data[:m.pos(data)]


def raw_extend(m: Mutator, data: bytes) -> bytes:
    tail = m.rng.choice([m.rng.randbytes(m.rng.randrange(1, 64)), m.rng.choice(m.seeds)[len(PREAMBLE):],
                         frame_unit(m.rng.choice((HEADER, KEYFRAME, CLIP, 0, 9)), m.rng.randbytes(8))])
    return data + tail


def raw_splice(m: Mutator, data: bytes) -> bytes:
    other = m.rng.choice(m.seeds)
    return data[:m.pos(data)] + other[m.pos(other):]


def unit_payload(m: Mutator, units):
    i = m.rng.randrange(len(units))
    units[i] = (units[i][0], m.bytes_op(units[i][1]))
    return units


def unit_field(m: Mutator, units):
    """Replace one parsed field (a varint or a byte) of one unit with an interesting value."""
    i = m.rng.randrange(len(units))
    unit_type, payload = units[i]
    spans = field_spans(unit_type, payload)
    if not spans:
        return unit_payload(m, units)
    start, end, kind = m.rng.choice(spans[:8] if m.rng.random() < 0.7 else spans)
    new = m.varint_bytes() if kind == "varint" else bytes([m.rng.choice((0, 1, 2, 3, 4, 7, 8, 16, 17, 99, 255))])
    units[i] = (unit_type, payload[:start] + new + payload[end:])
    return units


def unit_type(m: Mutator, units):
    i = m.rng.randrange(len(units))
    units[i] = (m.rng.choice((0, HEADER, KEYFRAME, CLIP, 4, 255)), units[i][1])
    return units


def unit_drop(m: Mutator, units):
    if len(units) > 1:
        del units[m.rng.randrange(len(units))]
    return units


def unit_duplicate(m: Mutator, units):
    i = m.rng.randrange(len(units))
    units.insert(m.rng.randrange(len(units) + 1), units[i])
    return units


def unit_swap(m: Mutator, units):
    i, j = m.rng.randrange(len(units)), m.rng.randrange(len(units))
    units[i], units[j] = units[j], units[i]
    return units


def unit_transplant(m: Mutator, units):
    """A unit from another seed (another size, intra codec or plan) in place of one of ours."""
    other = m.rng.choice(m.units)
    i, j = m.rng.randrange(len(units)), m.rng.randrange(len(other))
    if m.rng.random() < 0.5 and other[j][0] == KEYFRAME and units[i][0] == KEYFRAME:
        # keep our frame index, take their image: reaches the keyframe decoder with a wrong-size picture
        spans = field_spans(KEYFRAME, units[i][1])
        index = units[i][1][:spans[0][1]] if spans else b"\x00"
        their = field_spans(KEYFRAME, other[j][1])
        units[i] = (KEYFRAME, index + other[j][1][their[0][1] if their else 0:])
    else:
        units[i] = other[j]
    return units


RAW_OPS = [raw_mutate, raw_mutate, raw_truncate, raw_extend, raw_splice]
UNIT_OPS = [unit_payload, unit_payload, unit_field, unit_field, unit_field, unit_type, unit_drop, unit_duplicate,
            unit_swap, unit_transplant]
