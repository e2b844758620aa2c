import torch
from torch.distributions import Normal, kl_divergence

from genvc.models import CompressorConfig
from genvc.models.compressor import Compressor
from genvc.models.conditioning import keyframe_mask
from genvc.models.flow import euler_sample, interpolate, target_velocity
from genvc.models.prior import gaussian_kl, mask_inner_frames


def test_compressor_shapes_with_odd_latent_length():
    comp = Compressor(CompressorConfig(channels=16, heads=2, h_channels=8))
    assert comp.total_stride == (2, 8, 8)
    latent = torch.randn(2, 16, 5, 8, 16)  # 17 frames -> 5 latent frames (odd): padded in time
    h = comp.down(latent)
    assert h.shape == (2, 8, 3, 1, 2) and tuple(h.shape[2:]) == comp.h_shape((5, 8, 16))
    mu, sigma = comp.up(h, (5, 8, 16))
    assert mu.shape == sigma.shape == latent.shape
    assert (sigma > 0).all()


def test_compressor_strides_are_configurable():
    comp = Compressor(CompressorConfig(channels=16, heads=2, strides=((1, 2, 2), (2, 2, 2), (2, 2, 2))))
    assert comp.total_stride == (4, 8, 8)
    assert comp.down(torch.randn(1, 16, 5, 8, 8)).shape == (1, 16, 2, 1, 1)


def test_kl_closed_form_matches_torch_distributions():
    torch.manual_seed(0)
    mu_q, mu_p = torch.randn(100), torch.randn(100)
    s_q, s_p = torch.rand(100) + 0.1, torch.rand(100) + 0.1
    expected = kl_divergence(Normal(mu_q, s_q), Normal(mu_p, s_p))
    assert torch.allclose(gaussian_kl(mu_q, s_q, mu_p, s_p), expected, atol=1e-5)
    assert torch.allclose(gaussian_kl(mu_q, s_q, mu_q, s_q), torch.zeros(100), atol=1e-6)


def test_mask_inner_frames_keeps_only_the_ends():
    video = torch.rand(1, 3, 9, 4, 4) + 0.5
    masked = mask_inner_frames(video)
    assert torch.equal(masked[:, :, 0], video[:, :, 0]) and torch.equal(masked[:, :, -1], video[:, :, -1])
    assert masked[:, :, 1:-1].abs().sum() == 0


def test_reformed_path_and_target():
    x, z = torch.randn(3, 2, 4), torch.randn(3, 2, 4)
    t = torch.tensor([0.0, 0.25, 1.0])
    x_t = interpolate(x, z, t)
    assert torch.allclose(x_t[0], x[0]) and torch.allclose(x_t[2], z[2])
    assert torch.allclose(x_t[1], 0.75 * x[1] + 0.25 * z[1])
    assert torch.allclose(target_velocity(x, z), z - x)


def test_euler_sampling_step_count_and_exactness_on_straight_paths():
    x, z = torch.randn(2, 5), torch.randn(2, 5)
    calls = []

    def velocity(x_t, t):
        calls.append(t.clone())
        return z - x  # the true velocity of the straight path: Euler is exact

    out = euler_sample(velocity, z, steps=4)
    assert len(calls) == 4
    assert torch.allclose(torch.stack(calls)[:, 0], torch.tensor([1.0, 0.75, 0.5, 0.25]))
    assert torch.allclose(out, x, atol=1e-6)


def test_keyframe_mask_follows_wan_flf2v():
    mask = keyframe_mask(9, (1, 16, 3, 2, 2))
    assert mask.shape == (1, 4, 3, 2, 2)
    assert mask[:, :, 0].eq(1).all()  # frame 0 repeated 4x
    assert mask[:, :, 1].eq(0).all()  # frames 1..4
    assert mask[0, :, 2, 0, 0].tolist() == [0, 0, 0, 1]  # frames 5..8, the last one is a keyframe
