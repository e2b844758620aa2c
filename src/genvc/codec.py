"""The encoder and decoder pipelines: video → clip plan → keyframes + per-clip sections → `.gvc`, and back.

Public API: `encode(video, EncodeConfig) -> bytes`, `decode(data) -> Video`, `iter_decode(data)` (frames one at
a time, for long videos), and the file helpers `encode_file` / `decode_file` used by the CLI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np
from tqdm import tqdm

from genvc.bitstream import ClipUnit, KeyframeUnit, Stream, StreamHeader, read_stream, write_stream
from genvc.bitstream.format import (
    DERIVED_KEYFRAME, MAGIC, clip_unit_bytes, header_payload, keyframe_unit_bytes, needs_clip_unit, unit_framing,
)
from genvc.errors import FormatError, InputError
from genvc.intra import codec_by_id, encode_to_budget, get_codec
from genvc.intra.base import decode_keyframe
from genvc.io import Video, read_video, write_video
from genvc.io.video import check_size
from genvc.methods.base import ClipContext, ClipMethod, get_method, method_name_for_id
from genvc.segment import plan_clips, shot_probabilities
from genvc.utils.atomic import check_writable, write_bytes_atomic


@dataclass
class EncodeConfig:
    method: str = "sketch"
    bpp: float | None = None  # target for the whole file; None: keyframe_bytes or the codec's default quality
    keyframe_bytes: int | None = None
    interval: int = 45
    intra: str = "av1"
    shot_detection: bool = True
    model: str | None = None  # model folder for learned methods; None: the embedded default
    method_options: dict = field(default_factory=dict)  # e.g. {"level": 2, "text": "..."} for multic
    progress: bool = False

    def validate(self) -> None:
        if self.bpp is not None and self.keyframe_bytes is not None:
            raise InputError("give either a target bpp or keyframe bytes, not both")
        if self.bpp is not None and not 0 < self.bpp <= 24:
            raise InputError(f"bpp must be in (0, 24], got {self.bpp}")
        if self.keyframe_bytes is not None and self.keyframe_bytes < 16:
            raise InputError(f"keyframe bytes must be at least 16, got {self.keyframe_bytes}")
        if self.interval < 1:
            raise InputError(f"interval must be at least 1 frame, got {self.interval}")


def encode(video: Video, config: EncodeConfig | None = None) -> bytes:
    """Encode a whole video to `.gvc` bytes."""
    config = config or EncodeConfig()
    config.validate()
    check_size(video.width, video.height)
    method = get_method(config.method, model=config.model)
    intra = get_codec(config.intra)
    frames = video.frames

    probs = shot_probabilities(frames, progress=config.progress) if config.shot_detection else None
    plan = plan_clips(probs, video.num_frames, interval=config.interval)
    header = StreamHeader(video.width, video.height, video.fps, video.num_frames, plan,
                          method.model_id, method.weights_hash())
    keyframe_ids = plan.keyframes
    fps = float(video.fps)

    budget = None
    if config.bpp is not None:
        header_size = len(header_payload(header))
        budget = config.bpp * video.num_pixels / 8 - (len(MAGIC) + 1 + header_size + unit_framing(header_size))
    bar = tqdm(total=len(keyframe_ids) + len(plan.clips), desc="encode", unit="unit", disable=not config.progress)
    if method.derives_keyframes:
        keyframes, clip_units = _encode_deriving(method, frames, plan, intra, budget, config, bar, fps)
        bar.close()
        return write_stream(Stream(header, [keyframes[i] for i in keyframe_ids], clip_units))

    fractions = getattr(method, "side_fractions", ())
    if budget is not None and fractions and "side_fraction" not in config.method_options:
        return _best_side_fraction(video, config, fractions)

    # Side bytes (h, conditions) are measured first against the original keyframes, so the keyframes get
    # exactly what is left of the budget; the sections are then coded for real against the decoded keyframes.
    side_bytes = config.method_options.get("side_bytes")  # per-clip hint; None: the method's default
    fraction = config.method_options.get("side_fraction")
    remaining = budget
    if budget is not None:
        for index, clip in enumerate(plan.clips):
            if needs_clip_unit(clip):
                if fraction is not None:  # the clip's frames' share of the budget, this fraction of it to the side
                    side_bytes = int(fraction * budget * clip.num_frames / video.num_frames)
                ctx = ClipContext(frames[clip.start], frames[clip.end], clip.num_frames, fps, config.method_options)
                sections = method.encode(frames[clip.start:clip.end + 1], ctx, side_bytes) if method.uses_bits else {}
                remaining -= clip_unit_bytes(index, sections)

    keyframes, decoded, _ = _code_keyframes(frames, keyframe_ids, intra, remaining, config.keyframe_bytes, bar)
    clip_units = []
    for index, clip in enumerate(plan.clips):
        if needs_clip_unit(clip):
            if fraction is not None:
                side_bytes = int(fraction * budget * clip.num_frames / video.num_frames)
            ctx = ClipContext(decoded[clip.start], decoded[clip.end], clip.num_frames, fps, config.method_options)
            sections = method.encode(frames[clip.start:clip.end + 1], ctx, side_bytes)
            clip_units.append(ClipUnit(index, method.method_id, sections))
        bar.update()
    bar.close()
    return write_stream(Stream(header, [keyframes[i] for i in keyframe_ids], clip_units))


def _best_side_fraction(video: Video, config: EncodeConfig, fractions: tuple[float, ...]) -> bytes:
    """Decide by measurement how a method splits the budget between keyframes and side sections (h,
    conditions): encode with each candidate share, decode, keep the stream closest to the original (MSE)."""
    best, best_mse = None, None
    for fraction in fractions:
        trial = replace(config, method_options={**config.method_options, "side_fraction": fraction})
        data = encode(video, trial)
        _, frames = iter_decode(data, model=config.model)
        mse = float(np.mean([np.mean((a.astype(np.float32) - b) ** 2) for a, b in zip(frames, video.frames)]))
        if best_mse is None or mse < best_mse:
            best, best_mse = data, mse
    return best


def derived_keyframes(plan) -> set[int]:
    """Keyframes whose first clip (in plan order) has a clip unit: that unit can carry them."""
    derived, seen = set(), set()
    for clip in plan.clips:
        for key in (clip.start, clip.end):
            if key not in seen:
                seen.add(key)
                if needs_clip_unit(clip):
                    derived.add(key)
    return derived


def _encode_deriving(method: ClipMethod, frames: np.ndarray, plan, intra, budget: float | None,
                     config: EncodeConfig, bar, fps: float) -> tuple[dict, list[ClipUnit]]:
    """For methods whose clips carry their own keyframes: those go as empty units, the few keyframes of 1- and
    2-frame clips are coded as images, and all clip sections share the rest of the budget in one call."""
    height, width = frames.shape[1:3]
    derived = derived_keyframes(plan)
    coded_ids = [k for k in plan.keyframes if k not in derived]
    share = None if budget is None else budget * len(coded_ids) / len(frames)  # a frame's share each
    keyframes, decoded, used = _code_keyframes(frames, coded_ids, intra, share, config.keyframe_bytes, bar)
    for key in derived:
        keyframes[key] = KeyframeUnit(key, DERIVED_KEYFRAME, b"", 0)
        used += keyframe_unit_bytes(key, 0)
        bar.update()
    indices = [i for i, clip in enumerate(plan.clips) if needs_clip_unit(clip)]
    clips = [(frames[plan.clips[i].start:plan.clips[i].end + 1],
              ClipContext(decoded.get(plan.clips[i].start), decoded.get(plan.clips[i].end), plan.clips[i].num_frames,
                          fps, config.method_options, height, width)) for i in indices]
    if budget is None:
        all_sections = [method.encode(f, ctx, None) for f, ctx in clips]
    else:
        framing = sum(clip_unit_bytes(i, {}) + 3 for i in indices)  # + 3: length varints grow with the payload
        all_sections = method.encode_clips(clips, max(1, int(budget - used - framing)))
    bar.update(len(plan.clips))
    return keyframes, [ClipUnit(i, method.method_id, sections) for i, sections in zip(indices, all_sections)]


def _code_keyframes(frames: np.ndarray, keyframe_ids: list[int], intra, total: float | None,
                    fixed_bytes: int | None, bar) -> tuple[dict, dict, int]:
    """Code the keyframes: an even share each of `total` bytes (what one leaves over goes on), or `fixed_bytes`
    each, or the codec's default quality. Returns the units, the decoded keyframes and the bytes used."""
    keyframes, decoded, used = {}, {}, 0
    height, width = frames.shape[1:3]
    for n, index in enumerate(keyframe_ids):
        budget = fixed_bytes
        if total is not None:
            share = max(32, int((total - used) / (len(keyframe_ids) - n)))
            budget = max(16, share - (keyframe_unit_bytes(index, share) - share))
        coded = encode_to_budget(intra, frames[index], budget)
        keyframes[index] = KeyframeUnit(index, coded.codec_id, coded.data, coded.scale_log2)
        decoded[index] = decode_keyframe(intra, coded.data, width, height, coded.scale_log2)
        used += keyframe_unit_bytes(index, len(coded.data))
        bar.update()
    return keyframes, decoded, used


def iter_decode(data: bytes, model: str | None = None, progress: bool = False
                ) -> tuple[StreamHeader, Iterator[np.ndarray]]:
    """Parse `data` (all checks happen here, before any frame is produced) and return the header and a lazy
    iterator over decoded frames in display order."""
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
    derived = {k.frame_index for k in stream.keyframes if k.codec_id == DERIVED_KEYFRAME}
    if not derived <= derived_keyframes(header.plan):
        raise FormatError("a keyframe is marked derived but its first clip has no clip unit")
    for index, clip in enumerate(header.plan.clips):
        unit = stream.clip_unit(index)
        if unit is not None and not methods[unit.method_id].derives_keyframes and {clip.start, clip.end} & derived:
            raise FormatError(f"clip {index} needs a derived keyframe, but its method cannot supply it")

    def frames() -> Iterator[np.ndarray]:
        decoded: dict[int, np.ndarray] = {}
        emitted = -1
        fps = float(header.fps)
        bar = tqdm(total=header.num_frames, desc="decode", unit="frame", disable=not progress)
        for index, clip in enumerate(header.plan.clips):
            for key in (clip.start, clip.end):
                if key not in decoded and key not in derived:
                    unit = stream.keyframe(key)
                    decoded[key] = decode_keyframe(codecs[unit.codec_id], unit.data, header.width, header.height,
                                                   unit.scale_log2)
            unit = stream.clip_unit(index)
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
        bar.close()

    return header, frames()


def decode(data: bytes, model: str | None = None, progress: bool = False) -> Video:
    header, frames = iter_decode(data, model=model, progress=progress)
    return Video(np.stack(list(frames)), header.fps)


@dataclass
class EncodeResult:
    path: str
    num_bytes: int
    num_frames: int
    width: int
    height: int

    @property
    def bpp(self) -> float:
        return self.num_bytes * 8 / (self.num_frames * self.width * self.height)


def encode_file(input_path: str | os.PathLike, output_path: str | os.PathLike, config: EncodeConfig,
                max_frames: int | None = None) -> EncodeResult:
    check_writable(output_path)  # fail before the (long) encode, not after it
    video = read_video(input_path, max_frames=max_frames)
    data = encode(video, config)
    write_bytes_atomic(output_path, data)
    return EncodeResult(str(output_path), len(data), video.num_frames, video.width, video.height)


def read_gvc(path: str | os.PathLike) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"is a directory: {path}") from None
    except PermissionError:
        raise InputError(f"cannot read: {path}") from None


def decode_file(input_path: str | os.PathLike, output_path: str | os.PathLike, model: str | None = None,
                lossless: bool = False, progress: bool = False) -> StreamHeader:
    header, frames = iter_decode(read_gvc(input_path), model=model, progress=progress)
    write_video(output_path, frames, header.fps, lossless=lossless)
    return header
