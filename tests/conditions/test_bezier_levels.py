import numpy as np
import pytest

from genvc.conditions import level_config
from genvc.conditions.bezier import evaluate_bezier, fit_bezier
from genvc.conditions.bitio import from_bf16, to_bf16
from genvc.conditions.flow import grid_positions, grid_shape
from genvc.errors import InputError


def test_fit_recovers_known_bezier():
    i = np.arange(9)
    control = np.stack([12.0 * i, 50 + 30 * np.sin(i * np.pi / 4)], 1)  # a smooth S over ~100 pixels
    points = evaluate_bezier(control, 2000)

    def hausdorff(refine):
        fitted = evaluate_bezier(fit_bezier(points, order=8, refine=refine), 2000)
        distances = np.linalg.norm(fitted[:, None] - points[None], axis=-1)
        return max(distances.min(0).max(), distances.min(1).max())

    # Chord-length t is not the curve's own t, so compare shapes; re-parameterisation converges to the curve.
    assert hausdorff(0) < 1.5
    assert hausdorff(4) < 0.9 * hausdorff(0)
    assert hausdorff(20) < 0.3


def test_fit_is_exact_on_a_line_sampled_uniformly():
    points = np.stack([np.linspace(0, 90, 50), np.linspace(10, 40, 50)], 1)
    fitted = evaluate_bezier(fit_bezier(points, order=3), 50)
    np.testing.assert_allclose(fitted, points, atol=1e-3)


def test_fit_closed_circle_is_accurate():
    theta = np.linspace(0, 2 * np.pi, 400)
    circle = np.stack([50 + 30 * np.cos(theta), 40 + 30 * np.sin(theta)], 1)
    fitted = evaluate_bezier(fit_bezier(circle, 8), 400)
    radius = np.linalg.norm(fitted - [50, 40], axis=1)
    assert np.abs(radius - 30).max() < 1.5


def test_fit_needs_enough_points():
    with pytest.raises(ValueError):
        fit_bezier(np.zeros((5, 2)), 8)


@pytest.mark.parametrize("level,n,xi,l", [(1, 10, 1 / 5, 128), (2, 20, 1 / 8, 96), (3, 30, 1 / 10, 64)])
def test_levels_match_table_1(level, n, xi, l):
    config = level_config(level)
    assert (config.num_curves, config.min_person_area, config.flow_stride, config.bezier_order) == (n, xi, l, 8)


def test_level_0_has_no_conditions_and_bad_level_refused():
    assert not level_config(0).has_conditions
    with pytest.raises(InputError):
        level_config(4)


@pytest.mark.parametrize("stride", [128, 96, 64])
def test_flow_grid_follows_paper_formula(stride):
    h, w = 720, 1280
    assert grid_shape(h, w, stride) == (h // stride, w // stride)
    ys, xs = grid_positions(h, w, stride)
    assert ys[0] == stride and xs[0] == stride and ys.max() < h and xs.max() < w


def test_bf16_rounds_to_nearest_and_keeps_nan():
    values = np.array([1.0, 1 + 2**-8, 1 + 3 * 2**-9, -2.5, np.nan], dtype=np.float32)
    back = from_bf16(to_bf16(values))
    assert back[0] == 1.0 and back[1] == 1.0  # tie rounds to even
    assert back[2] == 1 + 2**-7 and back[3] == -2.5 and np.isnan(back[4])
