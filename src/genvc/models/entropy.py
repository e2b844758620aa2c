"""Entropy model and exact rANS coding of the FLOW-IB code h (beyond the paper, which sends raw bf16).

h is coded as integer symbols round(h - mu) under a zero-mean discretised Gaussian of scale sigma, where (mu, sigma)
are learned per channel and, with `context="keyframes"`, refined from the keyframe latents that the receiver
already has (Balle-style conditional Gaussian, as CompressAI's `GaussianConditional`).

Bit-exact decoding (cf. CompressAI issues #279/#309): the arithmetic coder never sees a float that the two sides
could compute differently. sigma is mapped to an index into a fixed log-spaced scale table, and each index has an
*integer* probability table (sum 2**precision, every symbol >= 1) stored as a buffer in the weights file, so encoder
and decoder read the very same integers. Only the index choice depends on network floats; mu only shifts the
decoded value and cannot desynchronise the coder.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from genvc.errors import FormatError
from genvc.models.config import EntropyConfig
from genvc.models.layers import pad_to_multiple


def _std_normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.erfc(-x / math.sqrt(2.0))


def discretised_gaussian_likelihood(values: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor,
                                    max_symbol: float = math.inf, floor: float = 1e-9) -> torch.Tensor:
    """P(bin of width 1 around `values`) under N(mean, scale^2), symmetric form for accuracy in the tails; the bins
    at +-max_symbol hold the whole tail beyond them, as in the coder's tables."""
    centred = (values - mean).abs()
    upper = _std_normal_cdf((0.5 - centred) / scale)
    lower = torch.where(centred >= max_symbol, 0.0, _std_normal_cdf((-0.5 - centred) / scale))
    return (upper - lower).clamp_min(floor)


def integer_pmf_tables(scales: np.ndarray, max_symbol: int, precision: int) -> np.ndarray:
    """int32 (S x K) tables, K = 2*max_symbol+1: the discretised Gaussian per scale with tails folded into the end
    symbols, quantised so each row sums to exactly 2**precision with every entry >= 1."""
    k = np.arange(-max_symbol, max_symbol + 1, dtype=np.float64)
    z_hi = (k + 0.5)[None, :] / scales[:, None]
    z_lo = (k - 0.5)[None, :] / scales[:, None]
    cdf = lambda z: 0.5 * np.vectorize(math.erfc)(-z / math.sqrt(2.0))  # noqa: E731
    hi, lo = cdf(z_hi), cdf(z_lo)
    hi[:, -1], lo[:, 0] = 1.0, 0.0
    pmf = hi - lo
    total = 1 << precision
    counts = 1 + np.floor(pmf * (total - len(k))).astype(np.int64)
    counts[np.arange(len(scales)), counts.argmax(axis=1)] += total - counts.sum(axis=1)
    return counts.astype(np.int32)


class GaussianEntropyModel(nn.Module):
    def __init__(self, config: EntropyConfig, h_channels: int, latent_channels: int = 16,
                 stride: tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        self.config = config
        self.stride = stride
        self.channel_mean = nn.Parameter(torch.zeros(h_channels))
        self.channel_log_scale = nn.Parameter(torch.full((h_channels,), math.log(4.0)))
        self.context = None
        if config.context == "keyframes":
            hidden = 4 * h_channels
            self.context = nn.Sequential(
                nn.Conv3d(latent_channels, hidden, 1), nn.SiLU(), nn.Conv3d(hidden, 2 * h_channels, 3, padding=1)
            )
            nn.init.zeros_(self.context[-1].weight)  # starts as the factorised model
            nn.init.zeros_(self.context[-1].bias)
        elif config.context != "none":
            raise ValueError(f"entropy context {config.context!r}; expected 'keyframes' or 'none'")
        scales = np.exp(np.linspace(math.log(config.scale_min), math.log(config.scale_max), config.num_scales))
        self.register_buffer("scale_table", torch.tensor(scales, dtype=torch.float64))
        self.register_buffer("pmf_table", torch.from_numpy(
            integer_pmf_tables(scales, config.max_symbol, config.precision)))

    # -- the probability model -------------------------------------------------------------------------------
    def parameters_for(self, h_shape: tuple[int, ...], condition: torch.Tensor | None,
                       step: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, scale) for every element of an h of `h_shape` (B x C x T x H x W); `condition` is the keyframe
        condition latent at latent resolution (needed when context="keyframes"). With a quantisation `step`, the
        symbols are of h / step, so mean and scale are divided by it (a rate knob without retraining)."""
        mean = self.channel_mean.view(1, -1, 1, 1, 1).expand(h_shape)
        log_scale = self.channel_log_scale.view(1, -1, 1, 1, 1).expand(h_shape)
        if self.context is not None:
            if condition is None:
                raise ValueError("this entropy model needs the keyframe condition latent")
            pooled = nn.functional.avg_pool3d(pad_to_multiple(condition, self.stride), self.stride, self.stride)
            d_mean, d_log_scale = self.context(pooled.float()).chunk(2, dim=1)
            mean, log_scale = mean + d_mean, log_scale + d_log_scale
        lo, hi = math.log(self.config.scale_min), math.log(self.config.scale_max)
        if step != 1.0:
            mean, log_scale = mean / step, log_scale - math.log(step)
        return mean, log_scale.clamp(lo, hi).exp()

    def rate_bits(self, h: torch.Tensor, condition: torch.Tensor | None = None, step: float = 1.0) -> torch.Tensor:
        """Bits per clip (B,) of h (given as h / step). Training: additive uniform noise stands in for rounding;
        eval: the rounded h."""
        mean, scale = self.parameters_for(h.shape, condition, step)
        m = self.config.max_symbol
        if self.training:
            values = h + torch.empty_like(h).uniform_(-0.5, 0.5)
        else:
            values = mean + (h - mean).round().clamp(-m, m)
        # floor = the coder's smallest probability (one count of 2**precision), so far outliers cost what they cost
        likelihood = discretised_gaussian_likelihood(values, mean, scale, m, floor=2.0 ** -self.config.precision)
        return -torch.log2(likelihood).flatten(1).sum(1)

    def quantize(self, h: torch.Tensor, condition: torch.Tensor | None = None, step: float = 1.0) -> torch.Tensor:
        """mu + round(h - mu) (clamped to the coded range) with a straight-through gradient (h given as h / step)."""
        mean, _ = self.parameters_for(h.shape, condition, step)
        m = self.config.max_symbol
        hard = mean + (h - mean).round().clamp(-m, m)
        return h + (hard - h).detach() if h.requires_grad else hard

    # -- coding --------------------------------------------------------------------------------------------------
    def _scale_indexes(self, scale: torch.Tensor) -> np.ndarray:
        log_table = self.scale_table.log()
        step = (log_table[-1] - log_table[0]) / (len(log_table) - 1)
        idx = ((scale.double().log() - log_table[0]) / step).round().clamp(0, len(log_table) - 1)
        return idx.to(torch.int64).flatten().cpu().numpy()

    def _probabilities(self, scale: torch.Tensor) -> np.ndarray:
        return self.pmf_table.cpu().numpy()[self._scale_indexes(scale)].astype(np.float64)

    @torch.no_grad()
    def compress(self, h: torch.Tensor, condition: torch.Tensor | None = None, step: float = 1.0) -> bytes:
        """Entropy-code one h (1 x C x T x H x W, given as h / step) to bytes (rANS, 32-bit words, little endian)."""
        import constriction

        mean, scale = self.parameters_for(h.shape, condition, step)
        m = self.config.max_symbol
        symbols = ((h - mean).round().clamp(-m, m) + m).to(torch.int32).flatten().cpu().numpy()
        coder = constriction.stream.stack.AnsCoder()
        coder.encode_reverse(symbols, constriction.stream.model.Categorical(perfect=False), self._probabilities(scale))
        return coder.get_compressed().astype("<u4").tobytes()

    @torch.no_grad()
    def decompress(self, data: bytes, h_shape: tuple[int, ...], condition: torch.Tensor | None = None,
                   step: float = 1.0) -> torch.Tensor:
        """The h / step that `compress` coded."""
        import constriction

        if len(data) % 4:
            raise FormatError("entropy-coded h is not a whole number of 32-bit words")
        mean, scale = self.parameters_for(h_shape, condition, step)
        words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
        coder = constriction.stream.stack.AnsCoder(words)
        try:
            symbols = coder.decode(constriction.stream.model.Categorical(perfect=False), self._probabilities(scale))
        except Exception as exc:  # constriction raises plain exceptions on corrupt input
            raise FormatError(f"corrupt entropy-coded h: {exc}") from exc
        if not coder.is_empty():
            raise FormatError("entropy-coded h has trailing data")
        values = torch.from_numpy(symbols.astype(np.float32) - self.config.max_symbol).view(h_shape)
        return mean + values.to(mean.device)


def bf16_bytes(h: torch.Tensor) -> bytes:
    """The paper's raw mode: h as little-endian bfloat16."""
    return h.detach().to(torch.bfloat16).view(torch.int16).cpu().numpy().astype("<i2").tobytes()


def bf16_from_bytes(data: bytes, h_shape: tuple[int, ...]) -> torch.Tensor:
    if len(data) != 2 * math.prod(h_shape):
        raise FormatError(f"bf16 h has {len(data)} bytes, expected {2 * math.prod(h_shape)}")
    ints = torch.from_numpy(np.frombuffer(data, dtype="<i2").astype(np.int16).copy())
    return ints.view(torch.bfloat16).float().view(h_shape)


def bf16_round(h: torch.Tensor) -> torch.Tensor:
    """Round to bfloat16 with a straight-through gradient."""
    return h + (h.to(torch.bfloat16).float() - h).detach()
