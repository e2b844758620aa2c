import math

import pytest
import torch

from genvc.errors import FormatError
from genvc.models import EntropyConfig
from genvc.models.entropy import (
    GaussianEntropyModel,
    bf16_bytes,
    bf16_from_bytes,
    discretised_gaussian_likelihood,
    integer_pmf_tables,
)


def _model(context="keyframes"):
    torch.manual_seed(0)
    model = GaussianEntropyModel(EntropyConfig(context=context), h_channels=16, latent_channels=16, stride=(2, 8, 8))
    if model.context is not None:
        with torch.no_grad():
            model.context[-1].weight.normal_(std=0.2)  # a non-trivial keyframe context
    return model.eval()


def test_integer_tables_are_exactly_normalised():
    import numpy as np

    tables = integer_pmf_tables(np.array([0.11, 1.0, 30.0]), max_symbol=63, precision=16)
    assert tables.shape == (3, 127)
    assert (tables.sum(axis=1) == 1 << 16).all() and tables.min() >= 1
    assert tables[1].argmax() == 63  # zero-mean: the peak is symbol 0


def test_likelihood_sums_to_one_over_integers():
    values = torch.arange(-200, 201).float()
    p = discretised_gaussian_likelihood(values, torch.tensor(0.3), torch.tensor(5.0))
    assert abs(p.sum().item() - 1.0) < 1e-4


@pytest.mark.parametrize("context,typical", [("keyframes", True), ("keyframes", False), ("none", True)])
def test_roundtrip_is_bit_exact_and_bytes_match_rate(context, typical):
    model = _model(context)
    condition = torch.randn(1, 16, 8, 64, 64)
    with torch.no_grad():
        mean, scale = model.parameters_for((1, 16, 4, 8, 8), condition)
        # typical: h from the model's own distribution; else far outliers (clamped / at the table floor)
        h = mean + scale * torch.randn(mean.shape) if typical else torch.randn(mean.shape) * 40
        data = model.compress(h, condition)
        decoded = model.decompress(data, tuple(h.shape), condition)
        expected = model.quantize(h, condition)
        bits = model.rate_bits(h, condition).item()
    assert torch.equal(decoded, expected)
    assert abs(len(data) * 8 - bits) / bits < 0.03, (len(data) * 8, bits)


def test_keyframe_context_changes_the_code():
    model = _model()
    h = torch.randn(1, 16, 2, 2, 2) * 3
    a = model.compress(h, torch.zeros(1, 16, 4, 16, 16))
    b = model.compress(h, torch.ones(1, 16, 4, 16, 16))
    assert a != b


def test_training_rate_uses_uniform_noise():
    model = _model().train()
    h = torch.randn(1, 16, 2, 2, 2)
    cond = torch.zeros(1, 16, 4, 16, 16)
    a, b = model.rate_bits(h, cond), model.rate_bits(h, cond)
    assert not torch.equal(a, b) and a.shape == (1,)


def test_truncated_stream_is_refused():
    model = _model("none")
    data = model.compress(torch.randn(1, 16, 1, 2, 2) * 4)
    with pytest.raises(FormatError):
        model.decompress(data[:-1], (1, 16, 1, 2, 2))


def test_bf16_roundtrip():
    h = torch.randn(1, 16, 2, 3, 4)
    data = bf16_bytes(h)
    assert len(data) == 2 * h.numel()
    assert torch.equal(bf16_from_bytes(data, tuple(h.shape)), h.to(torch.bfloat16).float())
    with pytest.raises(FormatError):
        bf16_from_bytes(data[:-2], tuple(h.shape))
    assert math.isclose(16 * h.numel(), 8 * len(data))
