"""The refiner's part: decode the sketch streams of a bench run with the refiner off and on, and print VMAF and
PSNR-Y of both next to what the decoder (following the encoder's per-clip choice) gives.

    PYTHONPATH=src python tools/refiner_ablation.py bench_out/ --videos bikes bigbuckbunny --bpp 0.001 0.002 0.005
"""

from __future__ import annotations

import argparse
import glob

from genvc.bitstream import Section, read_stream
from genvc.bitstream.format import needs_clip_unit
from genvc.codec import decode
from genvc.inter import decode_sketch
from genvc.inter.sketch import SCALE_UNIT
from genvc.io import read_video
from genvc.metrics.psnr import psnr_yuv
from genvc.metrics.vmaf import vmaf
from genvc.models.refiner import SketchRefiner
from genvc.samples import sample_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench_dir")
    parser.add_argument("--videos", nargs="+", default=["bikes", "bigbuckbunny"])
    parser.add_argument("--bpp", nargs="+", default=["0.001", "0.002", "0.005"])
    parser.add_argument("--frames", type=int, default=45)
    args = parser.parse_args()
    refiner = SketchRefiner.from_pretrained()
    for name in args.videos:
        video = read_video(sample_path(name), max_frames=args.frames)
        for bpp in args.bpp:
            paths = glob.glob(f"{args.bench_dir}/streams/{name}__genvc__sketch__f{args.frames}__bpp{bpp}__*.gvc")
            if not paths:
                continue
            data = open(paths[0], "rb").read()
            stream = read_stream(data)
            decoded = decode(data).frames
            off, on = decoded.copy(), decoded.copy()  # frames outside clip units are keyframes either way
            clips = [c for c in stream.header.plan.clips if needs_clip_unit(c)]
            for unit, clip in zip(stream.clips, clips):
                scale = unit.sections[Section.CONFIG][1] / SCALE_UNIT
                plain = decode_sketch(unit.sections[Section.SKETCH], video.width, video.height, scale, clip.num_frames)
                off[clip.start:clip.end + 1], on[clip.start:clip.end + 1] = plain, refiner.refine(plain, scale)
            scores = {label: (vmaf(video.frames, frames), psnr_yuv(video.frames, frames)["y"])
                      for label, frames in (("off", off), ("on", on), ("as coded", decoded))}
            print(f"{name} {bpp} bpp: " + ", ".join(f"refiner {k}: VMAF {v:.2f} PSNR-Y {p:.2f} dB"
                                                     for k, (v, p) in scores.items()), flush=True)


if __name__ == "__main__":
    main()
