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


def fit_bezier(points: np.ndarray, order: int = 8, smoothness: float = 0.0, refine: int = 4) -> np.ndarray:
    """Control points (order+1, 2) minimising the squared distance to `points` (M, 2), M ≥ order + 1.

    `smoothness` > 0 adds smoothness·M·‖second differences of the control polygon‖²: a plain fit of a
    high-order curve to a wiggly closed contour throws control points far outside the frame (the Bernstein
    basis is ill-conditioned); a little of this keeps them near the contour."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < order + 1:
        raise ValueError(f"need at least {order + 1} points to fit an order-{order} Bezier, got {len(points)}")
    t = chord_length_parameters(points)
    control = _solve(points, t, order, smoothness)
    for _ in range(refine):  # re-parameterise: one Newton step projecting each point onto the curve, refit
        t = _newton_step(control, points, t)
        control = _solve(points, t, order, smoothness)
    return control.astype(np.float32)


def _solve(points: np.ndarray, t: np.ndarray, order: int, smoothness: float) -> np.ndarray:
    basis, target = bernstein_matrix(t, order), points
    if smoothness > 0 and order >= 2:
        second_diff = np.diff(np.eye(order + 1), n=2, axis=0) * np.sqrt(smoothness * len(points))
        basis = np.concatenate([basis, second_diff])
        target = np.concatenate([points, np.zeros((order - 1, 2))])
    control, *_ = np.linalg.lstsq(basis, target, rcond=None)
    return control


def _newton_step(control: np.ndarray, points: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Newton update of t minimising |B(t) − p|² per point (Plass & Stone); endpoints stay at 0 and 1."""
    n = len(control) - 1
    d1 = n * np.diff(control, axis=0)
    d2 = (n - 1) * np.diff(d1, axis=0)
    residual = bernstein_matrix(t, n) @ control - points
    first = bernstein_matrix(t, n - 1) @ d1
    second = bernstein_matrix(t, n - 2) @ d2 if n >= 2 else np.zeros_like(first)
    numerator = (residual * first).sum(1)
    denominator = (first * first).sum(1) + (residual * second).sum(1)
    step = np.where(np.abs(denominator) > 1e-9, numerator / np.where(denominator == 0, 1, denominator), 0.0)
    new_t = np.clip(t - step, 0.0, 1.0)
    new_t[0], new_t[-1] = 0.0, 1.0
    return np.maximum.accumulate(new_t)  # keep the order of the points along the curve


def evaluate_bezier(control: np.ndarray, samples: int = 64) -> np.ndarray:
    """Points (samples, 2) along the curve with control points (order+1, 2)."""
    control = np.asarray(control, dtype=np.float64)
    return bernstein_matrix(np.linspace(0, 1, samples), len(control) - 1) @ control
