import numpy as np
import pytest

from genvc.io import read_video
from genvc.samples import sample_path


@pytest.fixture(scope="session")
def carphone():
    return read_video(sample_path("carphone"), max_frames=6).frames


@pytest.fixture(scope="session")
def bikes():
    frames = read_video(sample_path("bikes"), max_frames=4).frames
    return np.ascontiguousarray(frames[:, :, :320])  # half the width keeps the test fast
