import pytest
import torch

from genvc.errors import InputError
from genvc.models import VAEConfig
from genvc.models.vae import SmallVideoVAE, VideoVAE, WanVideoVAE


def test_small_vae_shapes_and_causality():
    torch.manual_seed(0)
    vae = SmallVideoVAE(VAEConfig(base_channels=8)).eval()
    assert isinstance(vae, VideoVAE)
    video = torch.rand(1, 3, 9, 16, 24) * 2 - 1
    mean, logvar = vae.encode(video)
    assert mean.shape == logvar.shape == (1, 16, 3, 2, 3)
    assert vae.decode(mean).shape == video.shape
    changed = video.clone()
    changed[:, :, 8] = -changed[:, :, 8]  # only the last frame changes
    mean2, _ = vae.encode(changed)
    assert torch.allclose(mean[:, :, :2], mean2[:, :, :2])  # earlier latent frames cannot see it
    assert not torch.allclose(mean[:, :, 2], mean2[:, :, 2])


def test_vae_refuses_bad_shapes():
    vae = SmallVideoVAE(VAEConfig(base_channels=8))
    with pytest.raises(InputError):
        vae.encode(torch.zeros(1, 3, 8, 16, 16))  # 8 frames is not 4k+1
    with pytest.raises(InputError):
        vae.encode(torch.zeros(1, 3, 5, 12, 16))


def test_wan_vae_normalises_latents(tiny_wan_vae):
    torch.manual_seed(0)
    vae = WanVideoVAE(VAEConfig(kind="wan", wan_config=tiny_wan_vae)).eval()
    video = torch.rand(1, 3, 5, 16, 16) * 2 - 1
    with torch.no_grad():
        mean, logvar = vae.encode(video)
        raw = vae.vae.encode(video).latent_dist
        assert mean.shape == (1, 16, 2, 2, 2)
        expected = (raw.mean - vae.latents_mean) / vae.latents_std
        assert torch.allclose(mean, expected, atol=1e-6)
        assert torch.allclose(logvar, raw.logvar - 2 * vae.latents_std.log(), atol=1e-5)
        assert vae.decode(mean).shape == video.shape
