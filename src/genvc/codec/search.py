"""The encoder's whole-stream searches: code a few complete streams, decode them, keep the one the tuned metric
(`genvc.judge.stream_score`) puts closest to the source. `encode_stream` is the encoder's entry point.

- the candidate search: how a method splits the budget between keyframes and side sections, and what of its
  generator runs (`ClipMethod.candidates`);
- the allocation search: how the clips share the bytes (`ClipMethod.allocation_search`).
"""

from __future__ import annotations

import io
from dataclasses import replace

from genvc.bitstream import StreamHeader, read_stream
from genvc.bitstream.format import clip_unit_bytes
from genvc.codec.config import EncodeConfig, target_bytes
from genvc.codec.decoder import iter_decode
from genvc.codec.encoder import encode_once, loaded_method
from genvc.io.source import FrameSource
from genvc.judge import stream_sample, stream_score
from genvc.methods.base import ClipMethod
from genvc.presets import get_preset
from genvc.ratesearch import QP_PER_HALVING


def encode_stream(source: FrameSource, out, config: EncodeConfig) -> StreamHeader:
    """Encode `source` to `out` as `config` says, with the searches the method declares where there is a target."""
    method = loaded_method(config.method, config.model)
    if config.bpp is not None and method.candidates and config.method_options.side_fraction is None:
        return _encode_best_candidate(source, out, config, method.candidates)
    if config.bpp is not None and method.allocation_search and config.clip_weights is None and \
            get_preset(config.method_options.preset).allocation_search:
        return _encode_best_allocation(source, out, config, method)
    return encode_once(source, out, config)


def stream_quality(source: FrameSource, data: bytes, header: StreamHeader, config: EncodeConfig) -> float:
    """How close a candidate stream decodes to the source by the tuned metric (higher is better); the clips holding
    no judged frame are not decoded (with tune "psnr" every frame is judged)."""
    tune = config.method_options.tune
    only = None if tune == "psnr" else set(stream_sample(header.num_frames))
    _, decoded = iter_decode(data, model=config.model, only=only)
    return stream_score(zip(source.frames(), decoded), header.num_frames, tune)


def _encode_best_allocation(source: FrameSource, out, config: EncodeConfig, method: ClipMethod) -> StreamHeader:
    """Decide by measurement how the clips share the bytes. First by frames (the metrics average over frames); then,
    where the clips landed at different quantisers, with the shares that would give every clip the same QP (each
    clip's bytes moved to a common QP by `QP_PER_HALVING`, the only thing the proposal depends on: the search keeps
    whichever stream measures better): one quantiser for the whole video is what a plain codec does, and a clip
    after a cut may need far more bytes per frame than the one before it. Both are coded whole and the better by the
    tuned metric is kept (measured on bikes, whose cut at frame 30 splits it into a 30- and a 15-frame clip: at
    0.02 bpp shares by frames coded them at QP 23 and 34)."""
    def coded(weights: tuple[float, ...] | None, scales: dict[int, float] | None) -> tuple[bytes, StreamHeader]:
        buffer = io.BytesIO()
        header = encode_once(source, buffer, replace(config, clip_weights=weights, clip_scales=scales))
        return buffer.getvalue(), header

    best = coded(None, None)  # by frames
    units = read_stream(best[0]).clips
    qps = [method.clip_qp(u.sections) for u in units]
    if len(set(qps)) > 1:
        reference = min(qps)
        # each clip's scale search looks near the scale the first encode measured best for it (quality over scale
        # rises then falls, `genvc.inter.scale_search.PATIENCE`), and its streams, judged or not, are remembered
        equal_qp = coded(tuple(clip_unit_bytes(u.clip_index, u.sections) * 2 ** ((qp - reference) / QP_PER_HALVING)
                               for u, qp in zip(units, qps)),
                         {u.clip_index: method.clip_scale(u.sections) for u in units})
        # Only a stream within the target competes on quality: moving bytes to one clip can starve another below
        # its floor, and that clip's smallest stream then overshoots the whole target (synth-cut at 0.002 bpp:
        # 1207 bytes for a target of 933, where shares by frames gave 919)
        target = target_bytes(config.bpp, source.width, source.height, best[1].num_frames)
        if len(equal_qp[0]) <= max(target, len(best[0])) and \
                stream_quality(source, *equal_qp, config) > stream_quality(source, *best, config):
            best = equal_qp
    out.write(best[0])
    return best[1]


def _encode_best_candidate(source: FrameSource, out, config: EncodeConfig,
                           candidates: tuple[tuple[float, bool, bool], ...]) -> StreamHeader:
    """Decide by measurement how a method splits the budget between keyframes and side sections (h, conditions)
    and what of its generator runs: encode each candidate (share, generator on, flow on), decode it, keep the stream
    the tuned metric puts closest to the original (`stream_quality`).
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
        header = encode_stream(source, buffer, trial)
        quality = stream_quality(source, buffer.getvalue(), header, config)
        if best is None or quality > best[0]:
            best = (quality, buffer.getvalue(), header)
    out.write(best[1])
    return best[2]
