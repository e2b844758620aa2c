"""What the generator does to each kind of prediction P on a held-out video, without the rest of the codec.

    python tools/generator_check.py /tmp/genvc-media/videos/sports2d/demo.mp4 --height 272 [--model DIR]

The video is resized (short side `--height`, as the training data), its frames `--start`…+`--frames` are coded as
sketches the way the training data is (`genvc.training.sketch_cache.code_video`, scale and QP from `--sketches`)
and their keyframes as the training data's (`genvc.training.coded_inputs`). Printed per P: PSNR (and VMAF on whole
frames) of P alone and after the generator; for keyframe P (a clip of `--clip-frames`) also z = P + up(ĥ), the
generator with h, and with the Multi-C conditions the model takes (extracted as the codec does) with and without h.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from genvc.io import read_video
from genvc.methods.generative import _video_tensor, load_pixelflow, receiver_tensors, restore_sketch
from genvc.metrics.vmaf import vmaf
from genvc.training.frame_cache import _resize
from genvc.training.coded_inputs import coded_receiver_inputs_with_conditions
from genvc.training.sketch_cache import code_video, upsampled


def vmaf_text(reference: np.ndarray, frames: np.ndarray) -> str:
    value = vmaf(reference, frames)
    return "n/a" if value is None else f"{value:.1f}"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(np.float64) - b) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video")
    parser.add_argument("--model", help="generator folder (default: the embedded one)")
    parser.add_argument("--height", type=int, default=272, help="resize to this short side first")
    parser.add_argument("--start", type=int, default=60)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--sketches", nargs="*", default=["2:40", "2:48", "3:42"], help="scale:QP pairs")
    parser.add_argument("--clip-frames", type=int, default=13, help="frames of the keyframe clip (45: the codec's)")
    parser.add_argument("--h-steps", nargs="+", type=float, default=[1.0],
                        help="quantisation steps of h to report (the encoder's ladder: 0.5 to 16)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = load_pixelflow(args.model)
    frames = read_video(args.video, max_frames=args.start + args.frames).frames[args.start:]
    frames = np.stack([_resize(f, args.height) for f in frames])
    print(f"{args.video}: frames {args.start}-{args.start + len(frames) - 1} at {frames.shape[2]}x{frames.shape[1]}")
    for pair in args.sketches:
        scale, qp = float(pair.split(":")[0]), int(pair.split(":")[1])
        sketch = upsampled(code_video(frames, scale, qp), frames.shape[2], frames.shape[1], scale)
        restored = restore_sketch(model, sketch, scale, qp)
        print(f"sketch 1/{scale:g} QP {qp}: P {psnr(sketch, frames):.2f} dB VMAF {vmaf_text(frames, sketch)} | "
              f"generator {psnr(restored, frames):.2f} dB VMAF {vmaf_text(frames, restored)}", flush=True)
    clip = frames[:args.clip_frames]
    inputs = coded_receiver_inputs_with_conditions(clip)
    m = model.config.pixel_multiple
    size = (clip.shape[1] + (-clip.shape[1]) % m, clip.shape[2] + (-clip.shape[2]) % m)
    receiver = receiver_tensors(inputs, *size)
    video = _video_tensor(clip, *size)
    to_frames = lambda t: ((t[0, :, :, :clip.shape[1], :clip.shape[2]] + 1) * 127.5).round().clamp(0, 255)  # noqa: E731
    modalities = {k: receiver[k] for k in model.config.modalities if k in receiver}
    x = to_frames(video).permute(1, 2, 3, 0).numpy()

    def scores(outs: dict) -> str:
        return "".join(f" | {name} {psnr(to_frames(out).permute(1, 2, 3, 0).numpy(), x):.2f} dB"
                       for name, out in outs.items())

    with torch.no_grad():
        outs = {"generator": model.decode(receiver)}
        if modalities:
            outs["with conditions"] = model.decode(receiver, modalities)
    print(f"keyframes ({len(clip)} frames): P {psnr(inputs['prediction'], x):.2f} dB" + scores(outs), flush=True)
    for step in args.h_steps:
        with torch.no_grad():
            data, _ = model.compress_h(video, receiver, step)
            outs = {"z = P + up(h)": model.decode(receiver, h_data=data, step=step, steps=0),
                    "generator with h": model.decode(receiver, h_data=data, step=step)}
            if modalities:
                outs["with h and conditions"] = model.decode(receiver, modalities, h_data=data, step=step)
        print(f"  h at step {step:g}: {len(data) * 8 / clip[..., 0].size:.4f} bpp" + scores(outs), flush=True)


if __name__ == "__main__":
    main()
