"""The encoder and decoder pipelines: video → clip plan → keyframes + per-clip sections → `.gvc`, and back.

Public API: `encode(video, EncodeConfig) -> bytes`, `decode(data) -> Video`, `iter_decode(data)` (frames one at
a time, for long videos), and the file helpers `encode_file` / `decode_file` used by the CLI.

The encoder streams: a scan counts the frames and takes TransNetV2's thumbnails, the plan and every clip's
budget are fixed from it, then one pass reads the video a clip window at a time, codes keyframes here and hands
clips to a pool (this process, N processes or Ray: `genvc.parallel`), and writes units as they complete. Memory
holds a few clip windows and the compressed units waiting for their turn, whatever the length. Budgets are fixed
before any clip is coded (each clip's frames' share), so the bytes do not depend on the number of workers or the
order they finish in; what the clips leave over goes, in a last pass, to one clip chosen from the plan (the last
of the longest), whose frames are kept for it.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np
from tqdm import tqdm

from genvc.bitstream import ClipUnit, KeyframeUnit, StreamHeader, StreamWriter, read_stream
from genvc.bitstream.format import (
    DERIVED_KEYFRAME, UnitType, clip_unit_bytes, clip_unit_overhead, derived_keyframes, keyframe_unit_bytes,
    max_clip_frames, needs_clip_unit, stream_overhead,
)
from genvc.clipplan import plan_clips
from genvc.errors import FormatError, InputError
from genvc.intra import codec_by_id, encode_to_budget, get_codec
from genvc.intra.base import decode_keyframe
from genvc.io import Video, write_video
from genvc.io.source import FileSource, FrameSource, MemorySource, counted
from genvc.io.video import check_size
from genvc.methods.base import ClipContext, ClipMethod, MethodOptions, get_method, method_name_for_id
from genvc.parallel import make_pool
from genvc.utils.atomic import atomic_path, check_writable
from genvc.utils.memory import trim_heap

#: the leftover of the clips' budgets is recoded into one clip when it is above this share of their budget
LEFTOVER_RECODE_SHARE = 0.02


@dataclass
class EncodeConfig:
    method: str = "sketch"
    bpp: float | None = None  # target for the whole file; None: keyframe_bytes or the codec's default quality
    keyframe_bytes: int | None = None
    interval: int = 45
    intra: str = "av1"
    shot_detection: bool = True
    model: str | None = None  # model folder for learned methods; None: the embedded default
    method_options: MethodOptions = field(default_factory=MethodOptions)  # a dict, e.g. {"level": 2}, is parsed
    progress: bool = False
    workers: int | None = 1  # local processes coding clips (1: this process; None: the cores memory allows)
    ray: str | None | bool = False  # False: local; None: a local Ray instance; "auto" / "HOST:PORT": a cluster
    #: relative byte shares of the clip units, in clip order (None: by frames); the allocation search
    #: (`_encode_best_allocation`) sets them for the streams it compares
    clip_weights: tuple[float, ...] | None = None
    #: clip index -> the sketch scale an earlier encode chose for it (the allocation search's second encode)
    clip_scales: dict[int, float] | None = None

    def __post_init__(self) -> None:
        self.method_options = MethodOptions.parse(self.method_options)  # InputError on an unknown/invalid option

    def validate(self) -> None:
        if self.bpp is not None and self.keyframe_bytes is not None:
            raise InputError("give either a target bpp or keyframe bytes, not both")
        if self.bpp is not None and not 0 < self.bpp <= 24:
            raise InputError(f"bpp must be in (0, 24], got {self.bpp}")
        if self.keyframe_bytes is not None and self.keyframe_bytes < 16:
            raise InputError(f"keyframe bytes must be at least 16, got {self.keyframe_bytes}")
        if self.interval < 1:
            raise InputError(f"interval must be at least 1 frame, got {self.interval}")
        if self.workers is not None and self.workers < 1:
            raise InputError(f"workers must be at least 1, got {self.workers}")


def encode(video: Video, config: EncodeConfig | None = None) -> bytes:
    """Encode a whole video to `.gvc` bytes."""
    out = io.BytesIO()
    _encode(MemorySource(video), out, config or EncodeConfig())
    return out.getvalue()


# ---------------------------------------------------------------- clip tasks (run wherever the pool puts them)

_METHODS: dict = {}  # per process: (name, model) -> loaded method, so a worker loads its model once


def _method(name: str, model) -> ClipMethod:
    key = (name, model if model is None or isinstance(model, (str, os.PathLike)) else id(model))
    if key not in _METHODS:
        _METHODS[key] = get_method(name, model=model)
    return _METHODS[key]


def _code_clip(name: str, model, frames: np.ndarray, ctx: ClipContext, budget: int | None) -> dict[int, bytes]:
    sections = _method(name, model).encode(frames, ctx, budget)
    trim_heap()  # once per clip: what the clip's buffers left free goes back to the OS
    return sections


# ---------------------------------------------------------------- the encoder

def _scan(source: FrameSource, config: EncodeConfig) -> tuple[int, np.ndarray | None]:
    """Frame count and, with shot detection, shot probabilities, from one streamed read (48×27 thumbnails)."""
    thumbs = []
    count = 0
    with tqdm(desc="scan", unit="frame", total=source.expected_frames, disable=not config.progress) as bar:
        if config.shot_detection:
            from genvc.clipplan.shots import thumbnail

            for frame in source.frames():
                thumbs.append(thumbnail(frame))
                count += 1
                bar.update()
        else:
            for _ in source.frames():
                count += 1
                bar.update()
        if count and config.shot_detection:
            from genvc.clipplan.shots import thumbnail_shot_probabilities

            bar.set_postfix_str("shot detection (TransNetV2)")
            return count, thumbnail_shot_probabilities(np.stack(thumbs))
    return count, None


class _KeyframeCoder:
    """Codes keyframes in frame order: an even share each of `total` bytes (what one leaves over goes on), or
    `fixed_bytes` each, or the codec's default quality."""

    def __init__(self, intra, count: int, total: float | None, fixed_bytes: int | None, width: int, height: int):
        self.intra, self.left, self.total, self.fixed = intra, count, total, fixed_bytes
        self.width, self.height, self.used = width, height, 0

    def code(self, index: int, frame: np.ndarray) -> tuple[KeyframeUnit, np.ndarray]:
        budget = self.fixed
        if self.total is not None:
            share = max(32, int((self.total - self.used) / self.left))
            budget = max(16, share - (keyframe_unit_bytes(index, share) - share))
        coded = encode_to_budget(self.intra, frame, budget)
        self.used += keyframe_unit_bytes(index, len(coded.data))
        self.left -= 1
        unit = KeyframeUnit(index, coded.codec_id, coded.data, coded.scale_log2)
        return unit, decode_keyframe(self.intra, coded.data, self.width, self.height, coded.scale_log2)


def target_bytes(bpp: float, width: int, height: int, num_frames: int) -> float:
    """The whole file's bytes at `bpp` (header and framing included)."""
    return bpp * width * height * num_frames / 8


class _Encoder:
    """One encode: the plan, the pool and the writer; units are written in stream order as they complete."""

    def __init__(self, source: FrameSource, out, config: EncodeConfig) -> None:
        config.validate()
        check_size(source.width, source.height)
        self.source, self.config = source, config
        self.method = _method(config.method, config.model)
        self.intra = get_codec(config.intra)
        # A cluster is reached before the (long) scan, so that an unreachable one fails at once.
        self.pool = make_pool(1, config.ray) if config.ray is not False else None
        try:
            self._plan(source, out, config)
        except BaseException:
            if self.pool is not None:
                self.pool.close(cancel=True)
            raise

    def _plan(self, source: FrameSource, out, config: EncodeConfig) -> None:
        num_frames, probs = _scan(source, config)
        if num_frames == 0:
            start = getattr(source, "start", 0)
            raise InputError(f"{getattr(source, 'path', 'the video')} contains no decodable video frames"
                             + (f" from frame {start} on" if start else ""))
        check_size(source.width, source.height, num_frames)
        # Clips are at most interval + 1 frames; the container bounds a clip's pixels (the decoder's working set).
        interval = max(1, min(config.interval, max_clip_frames(source.width, source.height) - 1))
        self.plan = plan_clips(probs, num_frames, interval=interval)
        self.header = StreamHeader(source.width, source.height, source.fps, num_frames, self.plan,
                                   self.method.model_id, self.method.weights_hash())
        self.fps = float(source.fps)
        self.budget = None if config.bpp is None else \
            target_bytes(config.bpp, source.width, source.height, num_frames) - stream_overhead(self.header)
        self.writer = StreamWriter(out, self.header)
        self.units: dict[tuple[UnitType, int], KeyframeUnit | ClipUnit] = {}
        self.hold: tuple[UnitType, int] | None = None  # the unit the leftover pass may still recode
        if self.pool is None:
            self.pool = make_pool(config.workers, task_bytes=(interval + 1) * source.width * source.height * 3,
                                  tasks=sum(needs_clip_unit(c) for c in self.plan.clips))
        self.in_flight: dict = {}  # future -> clip index
        self.bar = tqdm(total=num_frames, desc="encode", unit="frame", disable=not config.progress)

    def run(self) -> None:
        try:
            if self.method.derives_keyframes:
                self._encode_deriving()
            else:
                self._encode_with_keyframes()
            self.writer.finish()
        except BaseException:
            self.pool.close(cancel=True)
            raise
        finally:
            self.bar.close()
        self.pool.close()

    # -- the pool and the writer

    def _submit(self, index: int, frames: np.ndarray, ctx: ClipContext, budget: int | None) -> None:
        while len(self.in_flight) >= 2 * self.pool.workers:  # bounded: a few windows in memory, not the video
            self._collect(wait(self.in_flight, return_when=FIRST_COMPLETED).done)
        future = self.pool.submit(_code_clip, self.config.method, self.config.model, frames, ctx, budget)
        self.in_flight[future] = index
        if future.done():
            self._collect([future])

    def _collect(self, done) -> None:
        for future in done:
            index = self.in_flight.pop(future)
            sections = self.pool.result(future)
            self._put(ClipUnit(index, self.method.method_id, sections), self._new_frames(index))

    def _drain(self) -> None:
        while self.in_flight:
            self._collect(wait(self.in_flight, return_when=FIRST_COMPLETED).done)

    def _new_frames(self, index: int) -> int:
        clip = self.plan.clips[index]
        previous_end = self.plan.clips[index - 1].end if index else -1
        return clip.end - max(clip.start, previous_end + 1) + 1

    def _put(self, unit: KeyframeUnit | ClipUnit, frames_done: int = 0) -> None:
        key = (UnitType.KEYFRAME, unit.frame_index) if isinstance(unit, KeyframeUnit) else (UnitType.CLIP, unit.clip_index)
        self.units[key] = unit
        self.bar.update(frames_done)
        self._flush()

    def _flush(self) -> None:
        while self.writer.next_unit in self.units and self.writer.next_unit != self.hold:
            self.writer.write(self.units.pop(self.writer.next_unit))

    def _windows(self, keyframe_coder: _KeyframeCoder | None = None, coded: set[int] = frozenset()
                 ) -> Iterator[tuple[int, np.ndarray, dict[int, np.ndarray]]]:
        """One pass over the video: keyframes in `coded` are coded as they arrive (here, in frame order); yields
        (clip index, the clip's frames, decoded keyframes) as each clip's window completes."""
        clips = self.plan.clips
        window: dict[int, np.ndarray] = {}
        decoded: dict[int, np.ndarray] = {}
        next_clip = 0
        for index, frame in counted(self.source.frames(), self.plan.num_frames, "the video"):
            window[index] = frame
            if index in coded:
                unit, decoded[index] = keyframe_coder.code(index, frame)
                self._put(unit)
            while next_clip < len(clips) and clips[next_clip].end == index:
                clip = clips[next_clip]
                yield next_clip, np.stack([window[i] for i in range(clip.start, clip.end + 1)]), decoded
                if not needs_clip_unit(clip):
                    self.bar.update(self._new_frames(next_clip))
                next_clip += 1
                keep_from = clips[next_clip].start if next_clip < len(clips) else index + 1
                window = {i: f for i, f in window.items() if i >= keep_from}
                decoded = {i: f for i, f in decoded.items() if i >= keep_from}
                trim_heap()

    # -- methods whose clips carry their keyframes (the sketch)

    def _encode_deriving(self) -> None:
        plan, budget = self.plan, self.budget
        derived = derived_keyframes(plan)
        coded_ids = [k for k in plan.keyframes if k not in derived]
        share = None if budget is None else budget * len(coded_ids) / plan.num_frames  # a frame's share each
        coder = _KeyframeCoder(self.intra, len(coded_ids), share, self.config.keyframe_bytes,
                               self.source.width, self.source.height)
        unit_clips = [i for i, c in enumerate(plan.clips) if needs_clip_unit(c)]
        budgets = self._clip_budgets(unit_clips, None if budget is None else
                                     budget - share - sum(keyframe_unit_bytes(k, 0) for k in derived))
        recipient = self._leftover_recipient(unit_clips, budgets)
        kept = None
        for index, frames, decoded in self._windows(coder, set(coded_ids)):
            clip = plan.clips[index]
            for key in (clip.start, clip.end):
                if key in derived:
                    derived.discard(key)
                    self._put(KeyframeUnit(key, DERIVED_KEYFRAME, b"", 0))
            if index in budgets:
                ctx = ClipContext(decoded.get(clip.start), decoded.get(clip.end), clip.num_frames, self.fps,
                                  self.config.method_options, self.source.height, self.source.width,
                                  (self.config.clip_scales or {}).get(index))
                if index == recipient:
                    kept = (frames, ctx)
                self._submit(index, frames, ctx, self._sections_budget(index, budgets[index]))
        self._drain()
        self._spend_leftover(recipient, kept, budgets)

    # -- methods that code their clips between coded keyframes (interp, flowib, multic, hybrid)

    def _encode_with_keyframes(self) -> None:
        """Side bytes (h, conditions) are measured first against the original keyframes, so the keyframes get
        exactly what is left of the budget; the sections are then coded for real against the decoded keyframes."""
        plan, config = self.plan, self.config
        hint = config.method_options.side_bytes  # per-clip hint; None: the method's default
        fraction = config.method_options.side_fraction  # or this share of each clip's frames' share

        def side_bytes(index: int) -> int | None:
            if fraction is None or self.budget is None:
                return hint
            return int(fraction * self.budget * plan.clips[index].num_frames / plan.num_frames)

        remaining = self.budget
        if self.budget is not None and self.method.uses_bits:
            pending: dict = {}  # future -> clip index
            for index, frames, _ in self._windows():
                clip = plan.clips[index]
                if needs_clip_unit(clip):
                    ctx = ClipContext(frames[0], frames[-1], clip.num_frames, self.fps, config.method_options)
                    pending[self.pool.submit(_code_clip, config.method, config.model, frames, ctx,
                                             side_bytes(index))] = index
                    while len(pending) > 2 * self.pool.workers:
                        remaining -= self._sizes(pending, wait(pending, return_when=FIRST_COMPLETED).done)
            remaining -= self._sizes(pending, list(pending))
            self.bar.reset()
        elif self.budget is not None:  # the clips' units are sent empty
            remaining -= sum(clip_unit_bytes(i, {}) for i, c in enumerate(plan.clips) if needs_clip_unit(c))
        keyframes = plan.keyframes
        coder = _KeyframeCoder(self.intra, len(keyframes), remaining, config.keyframe_bytes,
                               self.source.width, self.source.height)
        for index, frames, decoded in self._windows(coder, set(keyframes)):
            clip = plan.clips[index]
            if needs_clip_unit(clip):
                ctx = ClipContext(decoded[clip.start], decoded[clip.end], clip.num_frames, self.fps,
                                  config.method_options)
                self._submit(index, frames, ctx, side_bytes(index))
        self._drain()

    def _sizes(self, pending: dict, futures) -> int:
        """Clip unit bytes of finished measuring tasks (taken out of `pending`)."""
        return sum(clip_unit_bytes(pending.pop(f), self.pool.result(f)) for f in futures)

    def _clip_budgets(self, unit_clips: list[int], total: float | None) -> dict[int, int | None]:
        """Each clip unit's bytes (framing included): its share of `total` by `config.clip_weights` where the
        allocation search gives them, else by its frames, fixed before coding. Measured on bikes at 0.002 bpp (a 30-
        and a 15-frame clip), shares by frames kept VMAF 27.0 where one QP for both clips gave 10.5: the metrics
        average over frames; at higher rates one QP can win, so `_encode_best_allocation` measures both."""
        if total is None:
            return {i: None for i in unit_clips}
        weights = self.config.clip_weights
        if weights is None or len(weights) != len(unit_clips):
            weights = [self.plan.clips[i].num_frames for i in unit_clips]
        return {i: int(total * w / sum(weights)) for i, w in zip(unit_clips, weights)}

    @staticmethod
    def _sections_budget(index: int, unit_bytes: int | None) -> int | None:
        return None if unit_bytes is None else max(1, unit_bytes - clip_unit_overhead(index, unit_bytes))

    def _leftover_recipient(self, unit_clips: list[int], budgets: dict) -> int | None:
        """The last of the longest clips: it takes what the others leave over (its unit, and those after it, wait)."""
        if self.budget is None or not unit_clips:
            return None
        longest = max(self.plan.clips[i].num_frames for i in unit_clips)
        recipient = max(i for i in unit_clips if self.plan.clips[i].num_frames == longest)
        self.hold = (UnitType.CLIP, recipient)
        return recipient

    def _spend_leftover(self, recipient: int | None, kept, budgets: dict) -> None:
        if recipient is not None:
            used = self.writer.size + sum(  # written, and waiting behind the held unit
                keyframe_unit_bytes(u.frame_index, len(u.data)) if isinstance(u, KeyframeUnit)
                else clip_unit_bytes(u.clip_index, u.sections) for u in self.units.values())
            leftover = int(self.budget + stream_overhead(self.header) - used)
            pool_bytes = sum(budgets.values())
            old = self.units[(UnitType.CLIP, recipient)]
            if leftover > LEFTOVER_RECODE_SHARE * pool_bytes:
                limit = clip_unit_bytes(recipient, old.sections) + leftover
                sections = _code_clip(self.config.method, self.config.model, *kept,
                                      self._sections_budget(recipient, limit))
                new = clip_unit_bytes(recipient, sections)
                if clip_unit_bytes(recipient, old.sections) < new <= limit:
                    self.units[(UnitType.CLIP, recipient)] = ClipUnit(recipient, self.method.method_id, sections)
            self.hold = None
        self._flush()


def _encode(source: FrameSource, out, config: EncodeConfig) -> StreamHeader:
    method = _method(config.method, config.model)
    candidates = getattr(method, "candidates", ())
    if config.bpp is not None and candidates and config.method_options.side_fraction is None:
        return _encode_best_candidate(source, out, config, candidates)
    if config.bpp is not None and hasattr(method, "clip_qp") and config.clip_weights is None:
        return _encode_best_allocation(source, out, config, method)
    encoder = _Encoder(source, out, config)
    encoder.run()
    return encoder.header


def _stream_quality(source: FrameSource, data: bytes, header: StreamHeader, config: EncodeConfig) -> float:
    """How close a candidate stream decodes to the source, by the tuned metric (higher is better): VMAF on runs of
    frames spread over the video, or with tune "psnr" minus the squared error over all of it; streamed, so memory
    does not grow with the video."""
    from genvc.judge import score

    tune = config.method_options.tune
    if tune == "psnr":
        _, decoded = iter_decode(data, model=config.model)
        return -sum(float(np.sum((a.astype(np.float32) - b) ** 2)) for a, b in zip(decoded, source.frames()))
    judged = set(judged_frames(header.num_frames))
    _, decoded = iter_decode(data, model=config.model, only=judged)  # the clips holding judged frames only
    pairs = [(a, b) for i, (a, b) in enumerate(zip(source.frames(), decoded)) if i in judged]
    return score(np.stack([a for a, _ in pairs]), np.stack([b for _, b in pairs]), tune)


#: the allocation search's model of a clip's bytes against its QP: they halve every 6 QP (the quantiser step of
#: H.264/HEVC/VVC doubles every 6 QP, and at a fixed scale the bytes roughly follow 1/step). Only the candidate it
#: proposes depends on it: the search keeps whichever stream measures better
QP_PER_HALVING = 6.0


def _encode_best_allocation(source: FrameSource, out, config: EncodeConfig, method: ClipMethod) -> StreamHeader:
    """Decide by measurement how the clips share the bytes. First by frames (the metrics average over frames); then,
    where the clips landed at different quantisers, with the shares that would give every clip the same QP (each
    clip's bytes moved to a common QP by `QP_PER_HALVING`): one quantiser for the whole video is what a plain codec
    does, and a clip after a cut may need far more bytes per frame than the one before it. Both are coded whole and
    the better by the tuned metric is kept (measured on bikes, whose cut at frame 30 splits it into a 30- and a
    15-frame clip: at 0.02 bpp shares by frames coded them at QP 23 and 34)."""
    def coded(weights: tuple[float, ...] | None, scales: dict[int, float] | None) -> tuple[bytes, StreamHeader]:
        buffer = io.BytesIO()
        encoder = _Encoder(source, buffer, replace(config, clip_weights=weights, clip_scales=scales))
        encoder.run()
        return buffer.getvalue(), encoder.header

    best = coded(None, None)  # by frames
    units = read_stream(best[0]).clips
    qps = [method.clip_qp(u.sections) for u in units]
    if len(set(qps)) > 1:
        reference = min(qps)
        # each clip's scale search looks near the scale the first encode measured best for it (quality over scale
        # rises then falls, `genvc.inter.sketch.PATIENCE`), and its streams, judged or not, are remembered
        equal_qp = coded(tuple(clip_unit_bytes(u.clip_index, u.sections) * 2 ** ((qp - reference) / QP_PER_HALVING)
                               for u, qp in zip(units, qps)),
                         {u.clip_index: method.clip_scale(u.sections) for u in units})
        # Only a stream within the target competes on quality: moving bytes to one clip can starve another below
        # its floor, and that clip's smallest stream then overshoots the whole target (synth-cut at 0.002 bpp:
        # 1207 bytes for a target of 933, where shares by frames gave 919)
        target = target_bytes(config.bpp, source.width, source.height, best[1].num_frames)
        if len(equal_qp[0]) <= max(target, len(best[0])) and \
                _stream_quality(source, *equal_qp, config) > _stream_quality(source, *best, config):
            best = equal_qp
    out.write(best[0])
    return best[1]


#: the candidate search's VMAF sees runs of `JUDGED_RUN` neighbouring frames (VMAF's motion feature needs them)
#: at up to `JUDGED_RUNS` places spread over the video: bounded memory and time on a long video
JUDGED_RUN, JUDGED_RUNS = 5, 9


def judged_frames(num_frames: int) -> list[int]:
    """The frames the candidate search judges by VMAF: all of a short video, else evenly spread runs."""
    if num_frames <= JUDGED_RUN * JUDGED_RUNS:
        return list(range(num_frames))
    starts = np.linspace(0, num_frames - JUDGED_RUN, JUDGED_RUNS).round().astype(int)
    return sorted({int(s) + k for s in starts for k in range(JUDGED_RUN)})


def _encode_best_candidate(source: FrameSource, out, config: EncodeConfig,
                           candidates: tuple[tuple[float, bool, bool], ...]) -> StreamHeader:
    """Decide by measurement how a method splits the budget between keyframes and side sections (h, conditions)
    and what of its generator runs: encode each candidate (share, generator on, flow on), decode it, keep the stream
    the tuned metric puts closest to the original (VMAF on runs of frames spread over the video, or with tune "psnr"
    the squared error over all of it; streamed, so memory does not grow with the video).
    No side bytes with the generator off is coded as an `interp` stream: the same frames without a clip unit's
    bytes, so the result is never worse than `interp` at the same target by that metric."""
    if not config.method_options.generator:  # the user switched it off: only the candidates without it
        candidates = tuple(c for c in candidates if not c[1])
    if not config.method_options.flow:  # likewise the flow
        candidates = tuple(c for c in candidates if not c[2])
    best = None
    for fraction, generator, flow in candidates:
        options = replace(config.method_options, side_fraction=fraction, generator=generator, flow=flow)
        trial = replace(config, method_options=options)
        if fraction == 0 and not generator:
            trial = replace(config, method="interp")
        buffer = io.BytesIO()
        header = _encode(source, buffer, trial)
        quality = _stream_quality(source, buffer.getvalue(), header, config)
        if best is None or quality > best[0]:
            best = (quality, buffer.getvalue(), header)
    out.write(best[1])
    return best[2]


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
                max_frames: int | None = None, start: int = 0) -> EncodeResult:
    """Encode a video file as a stream: memory holds a few clip windows, and the `.gvc` is written as it is coded,
    to a temporary file renamed over `output_path` only when complete."""
    check_writable(output_path)  # fail before the (long) encode, not after it
    source = FileSource(input_path, max_frames=max_frames, start=start)
    with atomic_path(output_path) as tmp:
        with open(tmp, "wb") as f:
            header = _encode(source, f, config)
            f.flush()
            os.fsync(f.fileno())
        size = os.path.getsize(tmp)
    return EncodeResult(str(output_path), size, header.num_frames, header.width, header.height)


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
