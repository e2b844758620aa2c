"""`genvc info IN.gvc`: what a stream holds and where its bytes go."""

from __future__ import annotations

import json

from genvc.bitstream import read_stream, unit_sizes
from genvc.bitstream.format import section_sizes
from genvc.codec import read_gvc
from genvc.bitstream.format import DERIVED_KEYFRAME
from genvc.intra import codec_by_id


def _codec_name(codec_id: int) -> str:
    return "derived (in its clip)" if codec_id == DERIVED_KEYFRAME else codec_by_id(codec_id).name
from genvc.methods.base import method_name_for_id


def register(subparsers) -> None:
    p = subparsers.add_parser("info", help="describe a .gvc file", description="Show a .gvc stream's header, "
                              "clip plan, bytes per unit type and per section, and its bits per pixel.")
    p.add_argument("input", help=".gvc file")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def describe(data: bytes) -> dict:
    stream = read_stream(data)
    h = stream.header
    units = {c.clip_index: c for c in stream.clips}
    keyframes = {k.frame_index: k for k in stream.keyframes}
    return {
        "size": [h.width, h.height], "fps": str(h.fps), "frames": h.num_frames,
        "model": h.model_id, "weights_hash": h.weights_hash.hex(),
        "bytes": len(data), "bpp": len(data) * 8 / (h.num_frames * h.width * h.height),
        "bytes_per_unit_type": unit_sizes(data),
        "bytes_per_section": section_sizes(stream),
        "keyframes": [{"frame": k.frame_index, "codec": _codec_name(k.codec_id), "bytes": len(k.data),
                       "scale": f"1/{1 << k.scale_log2}"} for k in keyframes.values()],
        "clips": [{"start": c.start, "end": c.end, "frames": c.num_frames,
                   "method": method_name_for_id(units[i].method_id) if i in units else "keyframes only",
                   "section_bytes": {str(t): len(p) for t, p in units[i].sections.items()} if i in units else {}}
                  for i, c in enumerate(h.plan.clips)],
    }


def run(args) -> int:
    info = describe(read_gvc(args.input))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{args.input}: {info['bytes']} bytes, {info['bpp']:.5f} bpp")
    print(f"  video  {info['size'][0]}x{info['size'][1]} @ {info['fps']} fps, {info['frames']} frames")
    print(f"  model  {info['model']} (weights {info['weights_hash']})")
    print("  bytes  " + ", ".join(f"{k} {v}" for k, v in info["bytes_per_unit_type"].items()))
    if info["bytes_per_section"]:
        print("  sections  " + ", ".join(f"{k} {v}" for k, v in info["bytes_per_section"].items()))
    print(f"  {len(info['clips'])} clips, {len(info['keyframes'])} keyframes:")
    for clip in info["clips"]:
        print(f"    [{clip['start']:>5}, {clip['end']:>5}] {clip['frames']:>4} frames  {clip['method']}")
    for key in info["keyframes"]:
        print(f"    keyframe {key['frame']:>5}  {key['codec']} {key['bytes']} bytes at {key['scale']} size")
    return 0
