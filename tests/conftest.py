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


def tiny_generator_model(output_std: float = 1e-3, seed: int = 0):
    """A tiny embedded-generator stand-in (`PixelFlowModel`), its output layer `output_std`-random (0: untrained,
    the identity on its prediction)."""
    import torch

    from genvc.models.pixelflow import PixelFlowConfig, PixelFlowModel

    torch.manual_seed(seed)
    model = PixelFlowModel(PixelFlowConfig(width=8, blocks=1, compressor_width=8, h_channels=2, unshuffle=2,
                                           h_strides=((1, 2, 2), (2, 2, 2))))
    if output_std:
        torch.nn.init.normal_(model.velocity.out.weight, std=output_std)
    return model.eval()


@pytest.fixture(scope="session")
def tiny_generator(tmp_path_factory) -> str:
    """Folder of a saved tiny generator (for `--model`)."""
    folder = tmp_path_factory.mktemp("generator")
    tiny_generator_model().save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def make_tiny_generator():
    return tiny_generator_model
