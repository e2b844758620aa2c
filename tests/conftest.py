import numpy as np
import pytest

from genvc.io import Video


def moving_square_video(num_frames: int = 12, height: int = 48, width: int = 64, seed: int = 0) -> Video:
    """A textured background with a bright square moving right: real motion, a few KB to code."""
    rng = np.random.default_rng(seed)
    background = (rng.integers(0, 40, (height // 8, width // 8, 3)) + 80).astype(np.uint8)
    background = np.kron(background, np.ones((8, 8, 1), np.uint8))[:height, :width]
    frames = np.repeat(background[None], num_frames, axis=0).copy()
    for t in range(num_frames):
        x = 4 + 2 * t
        frames[t, 16:32, x:x + 16] = (230, 200, 40)
    return Video(frames, 25)


@pytest.fixture
def square_video() -> Video:
    return moving_square_video()


@pytest.fixture(scope="session")
def make_square_video():
    """The moving-square video at any size/length: `make_square_video(num_frames, height, width, seed)`."""
    return moving_square_video
