"""The decoder: `.gvc` bytes → frames in display order, a clip at a time (memory does not grow with the video)."""

from __future__ import annotations

from typing import Iterator

import numpy as np
from tqdm import tqdm

from genvc.bitstream import StreamHeader, read_stream
from genvc.bitstream.format import DERIVED_KEYFRAME
from genvc.errors import FormatError
from genvc.intra import codec_by_id
from genvc.intra.base import decode_keyframe
from genvc.io import Video
from genvc.methods.base import ClipContext, ClipMethod, get_method, method_name_for_id
from genvc.utils.memory import trim_heap


def iter_decode(data: bytes, model: str | None = None, progress: bool = False, only: set[int] | None = None
                ) -> tuple[StreamHeader, Iterator[np.ndarray | None]]:
    """Parse `data` (all checks happen here, before any frame is produced) and return the header and a lazy
    iterator over decoded frames in display order. With `only` (frame indices), clips holding none of them are not
    decoded and their frames come as None: an encoder's judge looks at a few runs of a long video."""
    stream = read_stream(data)
    header = stream.header
    methods: dict[int, ClipMethod] = {}
    for unit in stream.clips:
        if unit.method_id not in methods:
            name = method_name_for_id(unit.method_id)
            if name is None:
                raise FormatError(f"clip {unit.clip_index} uses unknown method id {unit.method_id}")
            methods[unit.method_id] = get_method(name, model=model)
    for method in methods.values():
        method.check_stream(header.model_id, header.weights_hash)
    codecs = {k.codec_id: codec_by_id(k.codec_id) for k in stream.keyframes if k.codec_id != DERIVED_KEYFRAME}
    derived = {k.frame_index for k in stream.keyframes if k.codec_id == DERIVED_KEYFRAME}  # read_stream checked
    keyframe_units, clip_units = stream.units_by_index()
    for index, clip in enumerate(header.plan.clips):
        unit = clip_units.get(index)
        if unit is not None and not methods[unit.method_id].derives_keyframes and {clip.start, clip.end} & derived:
            raise FormatError(f"clip {index} needs a derived keyframe, but its method cannot supply it")

    clips = header.plan.clips
    needed = [only is None or any(c.start <= f <= c.end for f in only) for c in clips]
    for index in range(len(clips) - 1, 0, -1):  # a clip without a unit may take a derived keyframe from the one before
        if needed[index] and index not in clip_units:
            needed[index - 1] = True

    def frames() -> Iterator[np.ndarray | None]:
        decoded: dict[int, np.ndarray] = {}
        emitted = -1
        fps = float(header.fps)
        bar = tqdm(total=header.num_frames, desc="decode", unit="frame", disable=not progress)
        for index, clip in enumerate(header.plan.clips):
            if not needed[index]:  # not asked for (`only`): its frames come as None
                clip_frames = [None] * clip.num_frames
            else:
                for key in (clip.start, clip.end):
                    if key not in decoded and key not in derived:
                        unit = keyframe_units[key]
                        decoded[key] = decode_keyframe(codecs[unit.codec_id], unit.data, header.width,
                                                       header.height, unit.scale_log2)
                unit = clip_units.get(index)
                if unit is None:
                    clip_frames = [decoded[i] for i in sorted({clip.start, clip.end})]
                else:
                    ctx = ClipContext(decoded.get(clip.start), decoded.get(clip.end), clip.num_frames, fps,
                                      height=header.height, width=header.width)
                    clip_frames = methods[unit.method_id].decode(unit.sections, ctx)
                    if clip_frames.shape != (clip.num_frames, header.height, header.width, 3):
                        raise FormatError(f"clip {index} decoded to shape {clip_frames.shape}")
                    decoded.setdefault(clip.start, clip_frames[0])
                    decoded.setdefault(clip.end, clip_frames[-1])
            for offset, frame in enumerate(clip_frames):
                if clip.start + offset > emitted:
                    emitted = clip.start + offset
                    bar.update()
                    yield frame
            # Keyframes before this clip's end are never needed again.
            decoded = {k: v for k, v in decoded.items() if k >= clip.end}
            trim_heap()
        bar.close()

    return header, frames()


def decode(data: bytes, model: str | None = None, progress: bool = False) -> Video:
    header, frames = iter_decode(data, model=model, progress=progress)
    return Video(np.stack(list(frames)), header.fps)

