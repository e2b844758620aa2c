"""n-th order Bezier curves: least-squares fit on a chord-length parameterisation, and evaluation."""

from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np


@lru_cache(maxsize=32)
def _binomials(order: int) -> np.ndarray:
    return np.array([comb(order, i) for i in range(order + 1)], dtype=np.float64)


def bernstein_matrix(t: np.ndarray, order: int) -> np.ndarray:
    """(len(t), order+1) matrix B[k, i] = C(n, i) (1 − t_k)^(n−i) t_k^i."""
    t = np.asarray(t, dtype=np.float64)[:, None]
    i = np.arange(order + 1)[None, :]
    return _binomials(order)[None, :] * (1 - t) ** (order - i) * t**i


def chord_length_parameters(points: np.ndarray) -> np.ndarray:
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    total = np.concatenate([[0.0], np.cumsum(steps)])
    return total / total[-1] if total[-1] > 0 else np.linspace(0, 1, len(points))


def fit_bezier(points: np.ndarray, order: int = 8) -> np.ndarray:
    """Control points (order+1, 2) minimising the squared distance to `points` (M, 2), M ≥ order + 1."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < order + 1:
        raise ValueError(f"need at least {order + 1} points to fit an order-{order} Bezier, got {len(points)}")
    basis = bernstein_matrix(chord_length_parameters(points), order)
    control, *_ = np.linalg.lstsq(basis, points, rcond=None)
    return control.astype(np.float32)


def evaluate_bezier(control: np.ndarray, samples: int = 64) -> np.ndarray:
    """Points (samples, 2) along the curve with control points (order+1, 2)."""
    control = np.asarray(control, dtype=np.float64)
    return bernstein_matrix(np.linspace(0, 1, samples), len(control) - 1) @ control
