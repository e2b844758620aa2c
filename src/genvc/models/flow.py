"""Flow-matching paths and the Euler sampler.

Both paths are straight lines x_t = (1 - t) x + t s from data x (t=0) to a source s (t=1) with velocity s - x:
FLOW-IB's *reformed* path uses the compressed code as source (s = z), the standard path uses noise (s = eps) and
gives z to the model on extra channels. Sampling integrates dx/dt = v from t=1 down to t=0.
"""

from __future__ import annotations

from typing import Callable

import torch


def interpolate(x: torch.Tensor, source: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    t = t.view(-1, *([1] * (x.ndim - 1)))
    return (1 - t) * x + t * source


def target_velocity(x: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    return source - x


def euler_sample(
    velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], source: torch.Tensor, steps: int
) -> torch.Tensor:
    """Integrate from t=1 (source) to t=0 in `steps` equal Euler steps; `velocity(x_t, t)` is called `steps` times."""
    x = source
    times = torch.linspace(1.0, 0.0, steps + 1, device=source.device)
    for t, t_next in zip(times[:-1], times[1:]):
        x = x + (t_next - t) * velocity(x, t.expand(x.shape[0]))
    return x
