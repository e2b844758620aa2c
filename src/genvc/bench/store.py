"""Bench results on disk: one JSON file per RD point, written atomically as soon as it is measured, so an
interrupted run resumes where it stopped; plus the aggregated CSV/JSON of every point."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from genvc.metrics import METRICS
from genvc.utils.atomic import write_bytes_atomic

POINT_FIELDS = ("video", "codec", "preset", "frames", "width", "height", "target_bpp", "bpp", "bytes",
                "total_bytes", "reached", "q") + METRICS + (
    "encode_s", "decode_s", "metrics_s", "encode_peak_mb", "decode_peak_mb")


@dataclass
class Point:
    video: str
    codec: str
    preset: str
    frames: int
    width: int
    height: int
    target_bpp: float
    bpp: float
    bytes: int  # the bytes counted for the rate: picture data only for baselines, the whole .gvc for genvc
    total_bytes: int  # bytes of the file as written
    reached: bool  # False when the codec cannot go as low as target_bpp: this point is its floor
    q: int | None  # CRF/QP chosen by the rate search (None for genvc)
    metrics: dict[str, float | None]
    encode_s: float
    decode_s: float
    metrics_s: float
    encode_peak_mb: float | None
    decode_peak_mb: float | None
    extra: dict = field(default_factory=dict)  # e.g. the rate-search trace, the bytes left out

    def row(self) -> dict:
        data = asdict(self)
        data.update(data.pop("metrics"))
        data.pop("extra")
        return {name: data.get(name) for name in POINT_FIELDS}


def point_key(video: str, codec: str, preset: str, frames: int, target_bpp: float) -> str:
    """A file-system-safe, stable name for one point."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{video}__{codec}__{preset}__f{frames}__bpp{target_bpp:g}")
    digest = hashlib.sha1(f"{video}|{codec}|{preset}|{frames}|{target_bpp!r}".encode()).hexdigest()[:8]
    return f"{readable}__{digest}"


def _json_safe(value):
    # JSON has no inf/nan: store them as strings so a lossless point stays "inf", not null.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _json_restore(value):
    if value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, dict):
        return {k: _json_restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_restore(v) for v in value]
    return value


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.points_dir = self.root / "points"
        self.crops_dir = self.root / "crops"
        for d in (self.points_dir, self.crops_dir):
            d.mkdir(parents=True, exist_ok=True)

    def point_path(self, key: str) -> Path:
        return self.points_dir / f"{key}.json"

    def has(self, key: str) -> bool:
        return self.point_path(key).is_file()

    def save(self, key: str, point: Point) -> None:
        write_bytes_atomic(self.point_path(key), json.dumps(_json_safe(asdict(point)), indent=1).encode())

    def load_all(self) -> list[Point]:
        points = [Point(**_json_restore(json.loads(p.read_text()))) for p in sorted(self.points_dir.glob("*.json"))]
        return sorted(points, key=lambda p: (p.video, p.codec, p.target_bpp))

    def write_tables(self, points: list[Point]) -> tuple[Path, Path]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=POINT_FIELDS)
        writer.writeheader()
        for point in points:
            writer.writerow({k: ("" if v is None else v) for k, v in point.row().items()})
        csv_path, json_path = self.root / "results.csv", self.root / "results.json"
        write_bytes_atomic(csv_path, buffer.getvalue().encode())
        write_bytes_atomic(json_path, json.dumps([_json_safe(asdict(p)) for p in points], indent=1).encode())
        return csv_path, json_path
