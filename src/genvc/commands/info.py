"""`genvc info IN.gvc`: what a stream holds and where its bytes go."""

from __future__ import annotations

import json

from genvc.bitstream import read_stream, unit_sizes
from genvc.bitstream.format import DERIVED_KEYFRAME, clip_unit_bytes
from genvc.bitstream.reader import section_sizes
from genvc.bitstream.sections import Section
from genvc.commands.common import format_fps, is_stdio, stdin_bytes
from genvc.errors import FormatError
from genvc.intra import codec_by_id
from genvc.methods.base import method_name_for_id


def register(subparsers) -> None:
    p = subparsers.add_parser("info", help="describe a .gvc file", description="Show a .gvc stream's header, "
                              "clip plan (each clip's mode, and for sketch clips the scale, QP and whether the "
                              "generator runs), bytes per unit type and per section, and its bits per pixel.")
    p.add_argument("input", help=".gvc file, or - for stdin")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def _codec_name(codec_id: int) -> str:
    return "derived (in its clip)" if codec_id == DERIVED_KEYFRAME else codec_by_id(codec_id).name


def _section_name(tag: int) -> str:
    return Section(tag).name.lower()


def _clip(index: int, clip, unit) -> dict:
    entry = {"index": index, "start": clip.start, "end": clip.end, "frames": clip.num_frames}
    if unit is None:
        return {**entry, "mode": "keyframes only", "method": None, "bytes": 0, "section_bytes": {}}
    method = method_name_for_id(unit.method_id)
    entry.update(mode=method, method=method, bytes=clip_unit_bytes(index, unit.sections),
                 section_bytes={_section_name(t): len(p) for t, p in unit.sections.items()})
    config = unit.sections.get(Section.CONFIG)
    try:
        if method == "sketch" and config is not None:
            from genvc.methods.sketch import describe_config

            entry["sketch"] = describe_config(config)
        elif method in ("flowib", "multic", "hybrid") and config is not None:
            from genvc.methods.generative_config import describe_config

            entry["generator"] = describe_config(config)
    except FormatError:
        pass  # decode refuses such a clip; info still shows what is there
    return entry


def describe(data: bytes) -> dict:
    stream = read_stream(data)
    h = stream.header
    units = {c.clip_index: c for c in stream.clips}
    return {
        "size": [h.width, h.height], "fps": str(h.fps), "fps_value": float(h.fps), "frames": h.num_frames,
        "model": h.model_id, "weights_hash": h.weights_hash.hex(),
        "bytes": len(data), "bpp": len(data) * 8 / (h.num_frames * h.width * h.height),
        "bytes_per_unit_type": unit_sizes(data),
        "bytes_per_section": section_sizes(stream),
        "keyframes": [{"frame": k.frame_index, "codec": _codec_name(k.codec_id), "bytes": len(k.data),
                       "scale": f"1/{1 << k.scale_log2}"} for k in stream.keyframes],
        "clips": [_clip(i, c, units.get(i)) for i, c in enumerate(h.plan.clips)],
    }


def _end(source: str) -> str:
    return "the sketch's own picture" if source == "sketch" else "its coded keyframe"


def _clip_line(clip: dict) -> str:
    line = f"    [{clip['start']:>5}, {clip['end']:>5}] {clip['frames']:>4} frames  {clip['mode']}"
    if clip["method"]:
        line += f", {clip['bytes']} bytes"
    if "sketch" in clip:
        s = clip["sketch"]
        line += f": coded at 1/{s['scale']:g} size with QP {s['qp']}; generator "
        line += ("on, told 1/{scale:g} size and QP {qp}".format(**s["told"]) if s["generator"] else
                 "off (upsampled only)")
        if s["first"] == s["last"]:
            line += f"; first and last frame: {_end(s['first'])}"
        else:
            line += f"; first frame: {_end(s['first'])}, last: {_end(s['last'])}"
    if "generator" in clip:
        g = clip["generator"]
        sent = " and ".join(name for name in ("h", "conditions") if g[name]) or "nothing but its keyframes"
        flow = f"{g['flow_steps']} flow steps" if g["flow_steps"] else "no flow steps (the keyframes' interpolation)"
        restored = [("as decoded" if r is None else "restored, told 1/{scale:g} size and QP {qp}".format(**r))
                    for r in g["restored"].values()]
        line += f": sends {sent}; {flow}; first keyframe {restored[0]}, last {restored[1]}"
    return line


def _keyframe_line(key: dict) -> str:
    if key["codec"] == _codec_name(DERIVED_KEYFRAME):
        return f"    keyframe {key['frame']:>5}  derived: 0 bytes, its clip's sketch supplies the picture"
    resized = "" if key["scale"] == "1/1" else f" at {key['scale']} size (upsampled when decoded)"
    return f"    keyframe {key['frame']:>5}  {key['codec']}, {key['bytes']} bytes{resized}"


#: printed under the clip list when a term appears in it
_NOTES = {
    "told": "told S size and QP Q: what the generator's restorer is told about its input (the detail lost to a 1/S "
            "downscale, the coding noise of QP Q); the encoder measured which setting restores the clip best",
    "derived": "derived keyframe: sent as an empty unit; the first clip that ends there decodes it from its sketch",
    "keyframes only": "keyframes only: a clip of one or two frames is all keyframes, with no clip unit",
}


def run(args) -> int:
    from genvc.codec import read_gvc

    data = stdin_bytes("a .gvc stream") if is_stdio(args.input) else read_gvc(args.input)
    info = describe(data)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{args.input}: {info['bytes']} bytes, {info['bpp']:.5f} bpp")
    print(f"  video  {info['size'][0]}x{info['size'][1]} @ {format_fps(info['fps'])} fps, {info['frames']} frames")
    print(f"  model  {info['model']} (weights {info['weights_hash']})")
    print("  bytes  " + ", ".join(f"{k} {v}" for k, v in info["bytes_per_unit_type"].items()))
    if info["bytes_per_section"]:
        print("  sections  " + ", ".join(f"{k} {v}" for k, v in info["bytes_per_section"].items()))
    print(f"  {len(info['clips'])} clips, {len(info['keyframes'])} keyframes:")
    lines = [_clip_line(clip) for clip in info["clips"]] + [_keyframe_line(key) for key in info["keyframes"]]
    print("\n".join(lines))
    notes = [note for term, note in _NOTES.items() if any(term in line for line in lines)]
    if notes:
        print("  notes:\n" + "\n".join(f"    {note}" for note in notes))
    return 0
