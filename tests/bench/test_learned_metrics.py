"""The FVD loader on tiny stand-in weights (no package ships I3D). LPIPS and DISTS: test_perceptual_metrics.py."""

import numpy as np
import pytest
import torch

from genvc.errors import ModelError
from genvc.metrics.fvd import fvd, frechet_distance, load_i3d, preprocess


class TinyI3D(torch.nn.Module):
    """Same call signature as StyleGAN-V's i3d_torchscript.pt: (x, rescale, resize, return_features) → features."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 8, kernel_size=(4, 16, 16), stride=(4, 16, 16))

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = True) -> torch.Tensor:
        return self.conv(x).mean(dim=(2, 3, 4))


def test_fvd_with_standin_torchscript(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "i3d.pt"
    torch.jit.script(TinyI3D()).save(str(path))
    model = load_i3d(path)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (24, 40, 56, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-60, 61, a.shape), 0, 255).astype(np.uint8)
    assert fvd(model, a, a) == pytest.approx(0.0, abs=1e-6)
    assert fvd(model, a, b) > 0


def test_fvd_preprocess_shape_and_range():
    clip = np.full((16, 90, 160, 3), 255, np.uint8)
    x = preprocess(clip)
    assert x.shape == (3, 16, 224, 224)
    assert torch.allclose(x, torch.ones_like(x))


def test_frechet_distance_of_shifted_features_is_the_squared_shift():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(50, 6))
    shift = np.array([1.0, -2.0, 0, 0, 0.5, 0])
    assert frechet_distance(feats + shift, feats) == pytest.approx(float(shift @ shift), abs=1e-6)


def test_i3d_absent_gives_none(tmp_path):
    assert load_i3d(tmp_path / "missing.pt") is None
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ModelError):
        load_i3d(tmp_path / "junk.pt")
