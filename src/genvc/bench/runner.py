"""Running the bench: every (video, codec, target bpp) point, each stored as soon as it is measured."""

from __future__ import annotations

import time
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from genvc.bench.baselines import BASELINES, decode_stream, encode_frames, get_baseline
from genvc.bench.genvc_adapter import genvc_unavailable_reason, run_genvc
from genvc.ratesearch import search_quality
from genvc.bench import scaled
from genvc.bench.store import Point, ResultStore, point_key
from genvc.bench.synthetic import SYNTHETIC, synthetic_video
from genvc.errors import InputError
from genvc.io import Video, read_video
from genvc.judge import DEFAULT_TUNE
from genvc.metrics import MetricConfig, compute_metrics

CROP = (240, 320)  # height, width of the side-by-side crops in the report


@dataclass
class BenchConfig:
    videos: list[str]  # paths, or sample names ("bikes")
    bpps: list[float]
    out_dir: Path
    codecs: list[str] = field(default_factory=lambda: ["genvc", GENVC_OFF, scaled.NAME, *BASELINES])
    frames: int | None = None
    method: str = "interp"  # genvc's clip method
    tune: str | None = None  # genvc's --tune (None: the encoder's default)
    presets: dict[str, str] = field(default_factory=dict)  # codec → preset overriding the default
    threads: int = 2
    metrics: MetricConfig = field(default_factory=MetricConfig)
    ray: str | None | bool = False  # False: points run here, one by one; None or an address: on Ray


def resolve_video(name: str) -> tuple[str, Path | str]:
    """(display name, source) of a file path, a sample name or a synthetic clip's name (its source)."""
    path = Path(name)
    if path.is_file():
        return path.stem, path
    from genvc.samples import SAMPLES, sample_path

    if name in SAMPLES:
        return name, sample_path(name)
    if name in SYNTHETIC:
        return name, name
    raise InputError(f"no such video file, sample or synthetic clip ({', '.join(SYNTHETIC)}): {name}")


def load_video(source: Path | str, frames: int | None) -> Video:
    """Read (or make, for a synthetic clip) and crop to even sides, so every codec (4:2:0 ones included) codes
    the same pixels."""
    video = synthetic_video(source, frames) if source in SYNTHETIC else read_video(source, max_frames=frames)
    h, w = video.height // 2 * 2, video.width // 2 * 2
    return Video(np.ascontiguousarray(video.frames[:, :h, :w]), video.fps)


def center_crop(frame: np.ndarray, size: tuple[int, int] = CROP) -> np.ndarray:
    h, w = frame.shape[:2]
    ch, cw = min(size[0], h), min(size[1], w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return frame[top:top + ch, left:left + cw]


def save_crop(path: Path, frames: np.ndarray) -> None:
    from PIL import Image

    from genvc.utils.atomic import atomic_path

    with atomic_path(path) as tmp:
        Image.fromarray(center_crop(frames[len(frames) // 2])).save(tmp, format="PNG")


#: genvc with its generator off: the same encoder and stream without the learned part (its contribution is
#: genvc's BD-rate against this column)
GENVC_OFF = "genvc-off"
#: genvc at its other encoder presets (`genvc` is the default, medium): their time and BD-rate against slow
GENVC_PRESETS = {"genvc-fast": "fast", "genvc-slow": "slow"}
GENVC_CODECS = ("genvc", GENVC_OFF, *GENVC_PRESETS)


def check_codecs(codecs: list[str]) -> None:
    unknown = [c for c in codecs if c not in (*GENVC_CODECS, scaled.NAME) and c not in BASELINES]
    if unknown:
        raise InputError(f"unknown codec{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))}; known: "
                         f"{', '.join(GENVC_CODECS)}, {scaled.NAME}, {', '.join(BASELINES)} (videos go before --codecs, or after "
                         "a --)")


class Bench:
    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        check_codecs(config.codecs)  # before the store creates any folder
        self.store = ResultStore(config.out_dir)
        self.baselines = {c: get_baseline(c) for c in config.codecs if c not in (*GENVC_CODECS, scaled.NAME)}
        self.skipped: dict[str, str] = {}
        for codec in (c for c in GENVC_CODECS if c in config.codecs):
            if reason := genvc_unavailable_reason():
                self.skipped[codec] = reason

    def preset(self, codec: str) -> str:
        tune = f", tune {self.config.tune}" if self.config.tune not in (None, DEFAULT_TUNE) else ""
        if codec == "genvc":
            return self.config.method + tune
        if codec == GENVC_OFF:
            return f"{self.config.method}{tune}, generator off"
        if codec in GENVC_PRESETS:
            return f"{self.config.method}{tune}, preset {GENVC_PRESETS[codec]}"
        if codec == scaled.NAME:
            return scaled.preset()
        return self.config.presets.get(codec, self.baselines[codec].preset)

    def run(self) -> list[Point]:
        if self.config.ray is not False:
            return self._run_on_ray()
        cfg = self.config
        codecs = [c for c in cfg.codecs if c not in self.skipped]
        videos = [resolve_video(v) for v in cfg.videos]
        bpps = sorted(cfg.bpps)
        with tqdm(total=len(videos) * len(codecs) * len(bpps), desc="bench", unit="point") as bar:
            for name, path in videos:
                video = None  # read lazily: a fully resumed video is not decoded again
                for codec in codecs:
                    keys = {bpp: point_key(name, codec, self.preset(codec), self._frames_tag(), bpp) for bpp in bpps}
                    todo = [bpp for bpp in bpps if not self.store.has(keys[bpp])]
                    bar.update(len(bpps) - len(todo))
                    if not todo:
                        continue
                    if video is None:
                        video = load_video(path, cfg.frames)
                        save_crop(self.store.crops_dir / f"{name}__original.png", video.frames)
                    cache: dict[int, object] = {}
                    for bpp in todo:
                        bar.set_postfix_str(f"{name} {codec} {bpp:g} bpp")
                        point = self._run_point(name, video, codec, bpp, cache)
                        save_crop(self.store.crops_dir / f"{keys[bpp]}.png", point.extra.pop("decoded"))
                        point.extra["crop"] = f"{keys[bpp]}.png"
                        self.store.save(keys[bpp], point)
                        bar.update(1)
        return self.store.load_all()

    def _run_on_ray(self) -> list[Point]:
        """Every point a Ray task (it reads its video and searches its baseline's quality on its own; files must
        be readable at the same path on every node, and `out_dir` shared for the genvc streams)."""
        from genvc.parallel import RayPool

        cfg = self.config
        pool = RayPool(cfg.ray)
        futures = {}
        try:
            for name, path in (resolve_video(v) for v in cfg.videos):
                submitted = len(futures)
                for codec in (c for c in cfg.codecs if c not in self.skipped):
                    for bpp in sorted(cfg.bpps):
                        key = point_key(name, codec, self.preset(codec), self._frames_tag(), bpp)
                        if not self.store.has(key):
                            futures[pool.submit(_remote_point, cfg, name, path, codec, bpp)] = key
                if len(futures) > submitted:
                    save_crop(self.store.crops_dir / f"{name}__original.png", load_video(path, cfg.frames).frames)
            with tqdm(total=len(futures), desc="bench (ray)", unit="point") as bar:
                for future in as_completed(futures):
                    point = pool.result(future)
                    save_crop(self.store.crops_dir / f"{futures[future]}.png", point.extra.pop("decoded"))
                    point.extra["crop"] = f"{futures[future]}.png"
                    self.store.save(futures[future], point)
                    bar.update()
        finally:
            pool.close()
        return self.store.load_all()

    def _frames_tag(self) -> int:
        return self.config.frames or 0

    def _run_point(self, name: str, video: Video, codec: str, bpp: float, cache: dict) -> Point:
        pixels = video.num_pixels
        target_bytes = bpp * pixels / 8.0
        extra: dict = {}
        if codec in GENVC_CODECS:
            stream_dir = self.config.out_dir / "streams"
            stream_dir.mkdir(exist_ok=True)
            key = point_key(name, codec, self.preset(codec), self._frames_tag(), bpp)
            method_options = {"generator": False} if codec == GENVC_OFF else {}
            if codec in GENVC_PRESETS:
                method_options["preset"] = GENVC_PRESETS[codec]
            if self.config.tune is not None:
                method_options["tune"] = self.config.tune
            options = {"method_options": method_options} if method_options else None
            from genvc.codec.encoder import forget_measurements

            forget_measurements()  # timed as a fresh encode: no streams or scores left from another point
            run = run_genvc(video, bpp, self.config.method, stream_dir / f"{key}.gvc", options)
            decoded, size, total, q = run.frames, run.size, run.size, None
            timings = (run.encode_seconds, run.decode_seconds, run.encode_peak_mb, run.decode_peak_mb)
            reached = size <= target_bytes
        elif codec == scaled.NAME:
            run = scaled.run_vvenc_scaled(video, target_bytes)
            decoded, size, total, q, reached = run.frames, run.size, run.size, run.qp, run.size <= target_bytes
            timings = (run.encode_seconds, run.decode_seconds, None, None)
            extra.update(scale=run.scale)
        else:
            baseline, preset = self.baselines[codec], self.preset(codec)

            def encode(q: int):
                if q not in cache:
                    cache[q] = encode_frames(baseline, video.frames, video.fps, q, preset, self.config.threads)
                return cache[q]

            sizes = {q: s.bytes.picture for q, s in cache.items()}
            result = search_quality(lambda q: encode(q).bytes.picture, target_bytes, baseline.q_min,
                                    baseline.q_max, sizes)
            stream = encode(result.q)
            dec = decode_stream(baseline, stream.data, video.width, video.height, self.config.threads)
            decoded, size, total, q, reached = dec.frames, stream.bytes.picture, stream.bytes.total, result.q, \
                result.reached
            timings = (stream.encode_seconds, dec.decode_seconds, stream.encode_peak_mb, dec.decode_peak_mb)
            extra.update(search=result.trace, dropped=stream.bytes.dropped)
        if decoded.shape != video.frames.shape:
            raise InputError(f"{codec} decoded {decoded.shape}, expected {video.frames.shape}")
        start = time.perf_counter()
        metrics = compute_metrics(video.frames, decoded, video.fps, self.config.metrics)
        metrics_s = time.perf_counter() - start
        point = Point(video=name, codec=codec, preset=self.preset(codec), frames=video.num_frames,
                      width=video.width, height=video.height, target_bpp=bpp, bpp=size * 8.0 / pixels,
                      bytes=size, total_bytes=total, reached=bool(reached), q=q, metrics=metrics,
                      encode_s=timings[0], decode_s=timings[1], metrics_s=metrics_s, encode_peak_mb=timings[2],
                      decode_peak_mb=timings[3], extra=extra)
        point.extra["decoded"] = decoded
        return point


def _remote_point(config: BenchConfig, name: str, path: Path, codec: str, bpp: float) -> Point:
    """One bench point, wherever Ray runs it; only a crop of the decoded video travels back."""
    video = load_video(path, config.frames)
    point = Bench(config)._run_point(name, video, codec, bpp, {})
    point.extra["decoded"] = center_crop(point.extra["decoded"][video.num_frames // 2])[None]
    return point
