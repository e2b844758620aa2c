"""Writes the golden `.gvc` streams of `tests/foundation/test_golden_streams.py` and their `manifest.json`.

    python tests/data/golden/make_golden.py          # from the repository root

The rule: **regenerate only together with a `.gvc` VERSION bump** (`VERSION` in `genvc/bitstream/format.py`), and
say so in the commit message. The streams pin what today's decoder makes of yesterday's bytes; writing them anew
without a version bump hides exactly the silent format or decoder change they exist to catch.

Inputs are synthetic and deterministic (`synthetic_video`: a moving gradient, two moving shapes and a fixed noise
texture, no downloaded media), tiny (64x48 or 48x32, 6 to 10 frames, 25 fps), coded without shot detection, with the
embedded default model. Per stream the manifest holds the method, the file's sha256, the format version, and
either (generator off) the sha256 of the decoded frames, or (generator on) the name of a pinned reference output
(`<name>.ref.png`: the decoded frames stacked vertically, lossless) with a PSNR floor.

The decoder has no switch to turn the generator off at decode time: whether a clip runs it (the sketch's restorer,
the generative methods' flow steps) is written into the stream by the encoder. So the generator-off streams are
encoded with the generator off (`--generator off`): they decode without the generator, through AV1/VVC decoding,
OpenCV (DIS flow, remap, resize), NumPy and, for flowib, the small h decoder; repeatable bit for bit on a machine
and its build (docs/determinism.md), so their frames are pinned by hash. Generator-on streams run the generator's
torch float kernels, which take other paths on other CPUs (e.g. bf16 where native), so they are pinned by PSNR
against the reference output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
FPS = 25
#: generator-on decodes must stay at least this close (dB) to the pinned output. Measured on the generating machine
#: (fp32, AVX2): the sketch restorer's bf16 path, which CPUs with native bf16 take, decodes `sketch_on` 60.2 dB from
#: the fp32 output (flowib_on, multic_on: identical), so 50 dB leaves 10 dB for float differences across machines;
#: every pixel one level off is 48.1 dB, so a changed decoder fails
PSNR_FLOOR = 50.0

#: name -> (frames, width, height, EncodeConfig keywords, method options, generator on). The generator-off streams
#: are 64x48; the generator-on ones 48x32 and 6 frames, since their decoded frames are stored (the generator's grain
#: makes them ~2 KB a frame as PNG). `interval=8` on 10 frames gives the plan [0..8] [8..9]: the 2-frame clip has no
#: clip unit, so `sketch_off` has derived keyframes (0, 8) and a coded one (9, av1); `sketch_on` derives both of
#: its keyframes; interp, flowib and multic code every keyframe (av1).
STREAMS: dict[str, tuple[int, int, int, dict, dict, bool]] = {
    "sketch_off": (10, 64, 48, {"method": "sketch", "interval": 8}, {"generator": False}, False),
    "interp": (8, 64, 48, {"method": "interp"}, {}, False),
    "flowib_off": (8, 64, 48, {"method": "flowib"}, {"generator": False}, False),
    "multic_off": (8, 64, 48, {"method": "multic"}, {"generator": False}, False),
    "sketch_on": (6, 48, 32, {"method": "sketch"}, {}, True),
    "flowib_on": (6, 48, 32, {"method": "flowib"}, {}, True),
    "multic_on": (6, 48, 32, {"method": "multic"}, {}, True),
}


def synthetic_video(num_frames: int, width: int, height: int) -> np.ndarray:
    """Deterministic uint8 T×H×W×3 frames: a diagonal colour gradient drifting right, a bright square moving right
    and down, a dark disc moving left, over a fixed low-amplitude noise texture (integer arithmetic and a seeded
    NumPy generator only, so every machine makes the same frames)."""
    y, x = np.mgrid[0:height, 0:width]
    texture = np.random.default_rng(27).integers(-12, 13, (height // 4, width // 4, 3))
    texture = np.kron(texture, np.ones((4, 4, 1), np.int64))[:height, :width]
    frames = []
    for t in range(num_frames):
        frame = np.empty((height, width, 3), np.int64)
        frame[..., 0] = 40 + (x + 3 * t) * 160 // (width + 3 * num_frames)
        frame[..., 1] = 60 + y * 120 // height
        frame[..., 2] = 180 - (x + y) * 100 // (width + height)
        frame += texture
        sx, sy = 6 + 3 * t, 8 + t
        frame[sy:sy + 14, sx:sx + 14] = (235, 210, 50)
        cx, cy = width - 14 - 2 * t, height - 16
        frame[(x - cx) ** 2 + (y - cy) ** 2 <= 49] = (30, 40, 120)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return np.stack(frames)


def source(name: str):
    from genvc.io import Video

    num_frames, width, height = STREAMS[name][:3]
    return Video(synthetic_video(num_frames, width, height), FPS)


def config(name: str):
    from genvc.codec import EncodeConfig

    keywords, options = STREAMS[name][3:5]
    return EncodeConfig(shot_detection=False, intra="av1", workers=1, method_options=dict(options), **keywords)


def encode_stream(name: str) -> bytes:
    from genvc.codec import encode

    return encode(source(name), config(name))


def frames_sha256(frames: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(frames, dtype=np.uint8).tobytes()).hexdigest()


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_reference(path: Path, frames: np.ndarray) -> None:
    """The frames stacked vertically as one lossless PNG (far smaller than raw or zlib'd arrays)."""
    import cv2

    t, h, w, _ = frames.shape
    if not cv2.imwrite(str(path), np.ascontiguousarray(frames.reshape(t * h, w, 3)[..., ::-1]),
                       [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"cannot write {path}")


def read_reference(path: Path, num_frames: int) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot read {path}")
    return np.ascontiguousarray(image[..., ::-1]).reshape(num_frames, -1, image.shape[1], 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)

    from genvc.bitstream.format import VERSION
    from genvc.codec import decode

    manifest = {"version": VERSION, "fps": FPS, "streams": {}}
    for name, (num_frames, width, height, keywords, options, generator) in STREAMS.items():
        path = HERE / f"{name}.gvc"
        data = encode_stream(name)
        path.write_bytes(data)
        frames = decode(data).frames
        entry = {"method": keywords["method"], "file": path.name, "bytes": len(data), "sha256": file_sha256(data),
                 "version": data[4], "frames": num_frames, "width": width, "height": height, "generator": generator,
                 "encode": {**keywords, "method_options": options, "intra": "av1", "shot_detection": False}}
        if generator:
            reference = HERE / f"{name}.ref.png"
            write_reference(reference, frames)
            assert np.array_equal(read_reference(reference, num_frames), frames)
            entry.update(reference=reference.name, psnr_floor=PSNR_FLOOR)
        else:
            entry["decoded_sha256"] = frames_sha256(frames)
        manifest["streams"][name] = entry
        print(f"{name}: {len(data)} bytes", file=sys.stderr)
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
