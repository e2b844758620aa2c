"""Make the sketch's parameter-set dictionary (`src/genvc/inter/vvc_paramsets.bin`, see `genvc.inter.paramsets`).

Codes 45 grey frames with the sketch's own vvenc settings (`vvenc_annexb`) at 28 picture sizes (random multiples of 8 that cover
every bit alignment of the SPS after its size fields, and four common sizes) and concatenates the parameter sets
as the sketch packs them. The dictionary is part of the stream format: a new one needs a new sketch version.

    python tools/make_paramset_dict.py -o src/genvc/inter/vvc_paramsets.bin
"""

from __future__ import annotations

import argparse
import hashlib
import random

import numpy as np

from genvc.bitstream.varint import encode_varint
from genvc.inter.paramsets import PARAMETER_SET_TYPES
from genvc.inter.vvc import vvenc_annexb
from genvc.intra.elementary import nal_type, vvc_units

COMMON = [(1280, 720), (1920, 1080), (640, 272), (384, 216)]


def sizes(seed: int = 1) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    return [(32 + 8 * rng.randint(0, 60), 32 + 8 * rng.randint(0, 40)) for _ in range(24)] + COMMON


def parameter_sets(width: int, height: int) -> bytes:
    frames = np.full((45, height, width, 3), 128, np.uint8)  # a bench clip's length: the intra period is in the SPS
    units = [u for u in vvc_units(vvenc_annexb(frames, 45, 25.0)) if nal_type("vvc", u) in PARAMETER_SET_TYPES]
    return b"".join(encode_varint(len(u)) + u for u in units)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    data = b"".join(parameter_sets(w, h) for w, h in sizes())
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"{args.output}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
