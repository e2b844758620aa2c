import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tiny_codec, train_helpers


@pytest.fixture(scope="session")
def video_folder(tmp_path_factory) -> Path:
    """Two short real videos (40 and 50 frames of the 'cuts' sample, 160×90), one in a subfolder, plus a non-video."""
    from genvc.io import read_video, write_video
    from genvc.samples import sample_path

    folder = tmp_path_factory.mktemp("videos")
    (folder / "sub").mkdir()
    video = read_video(sample_path("cuts"), max_frames=90)
    write_video(folder / "a.mp4", video.frames[:40], video.fps, lossless=True)
    write_video(folder / "sub" / "b.mkv", video.frames[40:], video.fps, lossless=True)
    (folder / "notes.txt").write_text("not a video")
    return folder

