"""Segmentation condition quality: curves follow their contours, regions are stable, the curves redraw the map."""

import cv2
import numpy as np

from genvc.conditions import LabClusterConfig, LabClusterSegmenter
from genvc.conditions.bezier import distance_to_curve, evaluate_bezier, fit_bezier
from genvc.conditions.segmentation import (canonical_contour, extract_segmentation, rasterize_segmentation,
                                           region_iou, region_polygons)


def _star(points=400, arms=7):
    theta = np.linspace(0, 2 * np.pi, points, endpoint=False)
    radius = 40 + 15 * np.sin(arms * theta)
    return np.stack([80 + radius * np.cos(theta), 70 + radius * np.sin(theta)], 1)


def test_closed_fit_keeps_end_equal_to_start():
    loop = canonical_contour(_star(arms=2), 128, 0.0)
    control = fit_bezier(loop, 8, closed=True)
    np.testing.assert_array_equal(control[0], control[-1])


def test_pinned_ends_are_kept():
    points = np.stack([np.linspace(0, 50, 40), np.sin(np.linspace(0, 3, 40)) * 10], 1)
    control = fit_bezier(points, 5, ends=(points[0], points[-1]))
    np.testing.assert_allclose(control[[0, -1]], points[[0, -1]], atol=1e-4)


def test_complex_contour_is_split_and_never_strays_far():
    mask = np.zeros((140, 160), np.uint8)
    cv2.fillPoly(mask, [np.round(_star()).astype(np.int32)], 1)
    cond = extract_segmentation(mask[None], num_curves=10)
    pieces = cond.control[0][cond.labels[0] == 1]
    assert len(pieces) > 1  # one order-8 curve cannot draw a 7-armed star
    (outline, label), = [p for p in region_polygons(cond.control[0], cond.labels[0]) if p[1] == 1]
    contour = _star()
    distance = np.sqrt(((contour[:, None] - outline[None]) ** 2).sum(-1))
    assert distance.min(1).max() < 4 and distance.min(0).max() < 4  # both ways: no loops off the contour
    assert region_iou(mask[None], cond) > 0.95


def test_single_closed_curve_is_a_plain_fit_for_a_blob():
    mask = np.zeros((100, 120), np.uint8)
    cv2.ellipse(mask, (65, 50), (40, 25), 20, 0, 360, 1, cv2.FILLED)
    cond = extract_segmentation(mask[None], num_curves=10)
    assert list(cond.labels[0]).count(1) == 1  # an ellipse needs one curve
    control = cond.control[0][list(cond.labels[0]).index(1)]
    np.testing.assert_array_equal(control[0], control[-1])
    contour = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0][0][:, 0].astype(float)
    assert distance_to_curve(control, contour).max() < 2


def test_canonical_contour_start_and_winding_do_not_depend_on_tracing():
    star = _star(arms=3)
    a = canonical_contour(star, 64, 1.0)
    b = canonical_contour(np.roll(star[::-1], 37, axis=0), 64, 1.0)
    np.testing.assert_allclose(a, b, atol=1.5)


def test_real_frames_regions_are_few_stable_and_redrawn(carphone):
    frames = carphone[:4]
    labels = LabClusterSegmenter(LabClusterConfig(people=False))(frames)
    assert 3 <= np.mean([len(np.unique(f)) for f in labels]) <= 12
    assert all((a == b).mean() > 0.85 for a, b in zip(labels, labels[1:]))  # same ids frame to frame
    cond = extract_segmentation(labels, num_curves=20)
    assert region_iou(labels, cond) > 0.75  # 0.81 here without the person region, 0.93 over 45 frames with it
    drawn = rasterize_segmentation(cond, *labels.shape[1:])
    assert (drawn == 255).mean() < 0.25  # 0.16 here: smoothing rounds frame corners and seams between regions


def test_bezier_curve_through_region_polygon_chain():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], float)
    pieces = [np.linspace(square[i], square[i + 1], 4) for i in range(4)]
    outline, = region_polygons(np.stack(pieces), np.array([3, 3, 3, 3]))
    assert outline[1] == 3 and len(outline[0]) == 4 * 96
    np.testing.assert_allclose(outline[0][[0, 96, 192, 288]], square[:4], atol=1e-6)
    assert len(region_polygons(np.stack(pieces), np.array([3, 3, 4, 3]))) == 3  # a new label breaks the chain
    assert np.allclose(evaluate_bezier(pieces[0], 2), square[:2])
