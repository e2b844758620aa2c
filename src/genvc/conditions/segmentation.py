"""Segmentation condition: label maps -> outer contours (border tracing) -> N longest as n-th order Beziers.

Payload: per frame, K ≤ N curves (longest first), each with a region label (one byte, beyond Eq. 1, so the
decoder can colour a region the same way in every frame) and (n+1) control points in pixels.
bf16 coding stores control points normalised by the frame size; entropy coding quantizes them to `step`
pixels and predicts each curve from the previous frame's curve with the same label (same occurrence), or,
without one, each control point from the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from genvc.bitstream.sections import Section
from genvc.conditions.bezier import evaluate_bezier, fit_bezier
from genvc.conditions.bitio import ByteReader, ByteWriter, Coding, check_limit
from genvc.conditions.entropy import LaplaceDecoder, LaplaceEncoder
from genvc.conditions.palette import LABEL_COLOURS

MAX_ORDER = 16
MAX_CURVES = 255
COUNT, LABEL, TEMPORAL, ANCHOR, SPATIAL = range(5)  # entropy groups


@dataclass
class SegmentationConditions:
    order: int
    control: list[np.ndarray] = field(default_factory=list)  # per frame (K, order+1, 2) float32, (x, y) pixels
    labels: list[np.ndarray] = field(default_factory=list)  # per frame (K,) uint8

    @property
    def num_numbers(self) -> int:
        """Numbers Eq. 1 counts: 2 per control point."""
        return sum(c.size for c in self.control)


def _coordinate_box(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Control points of a good fit often lie far outside the frame (up to ~7 frame sizes from its centre on our
    samples); clipping them to within 4 frame sizes of it costs about 0.01 region IoU, clipping to half a frame 0.3."""
    return np.array([-4.0 * width, -4.0 * height]), np.array([5.0 * width, 5.0 * height])


@dataclass
class ContourFitConfig:
    """How outer contours become Bezier curves."""

    samples: int = 128  # a contour is resampled to this many points, evenly spaced along its length
    smoothing: float = 0.006  # Gaussian sigma along the contour, as a fraction of the frame diagonal
    tolerance: float = 0.012  # fit error allowed (95th-percentile distance, fraction of the frame diagonal)
    max_pieces: int = 4  # a contour one curve cannot follow is split into up to this many joined curves
    min_length: float = 0.03  # contours shorter than this fraction of the frame perimeter are not worth a curve


def extract_segmentation(label_maps: np.ndarray, num_curves: int, order: int = 8,
                         config: ContourFitConfig | None = None) -> SegmentationConditions:
    """(T, H, W) labels -> Beziers for the longest outer contours per frame, at most `num_curves` curves.

    Each contour is resampled, smoothed, started at its topmost point and wound one way (so a region's curve
    changes little from frame to frame, which the entropy coder's temporal prediction exploits), then fitted as a
    closed curve. A contour one curve cannot follow within the tolerance is split into joined pieces (each counts
    towards N; the renderer chains them back), or skipped if the pieces do not fit the remaining budget."""
    config = config or ContourFitConfig()
    h, w = label_maps.shape[1:3]
    low, high = _coordinate_box(h, w)
    diagonal = float(np.hypot(h, w))
    result = SegmentationConditions(order)
    for frame in label_maps:
        controls, labels = [], []
        for label, contour in _longest_contours(frame, config.min_length * 2 * (h + w), order):
            budget = min(num_curves, MAX_CURVES) - len(controls)
            if budget <= 0:
                break
            points = canonical_contour(contour, config.samples, config.smoothing * diagonal)
            pieces = fit_contour(points, order, config.tolerance * diagonal, min(config.max_pieces, budget))
            if pieces is not None:
                controls += [np.clip(c, low, high) for c in pieces]
                labels += [label] * len(pieces)
        result.control.append(np.array(controls, dtype=np.float32).reshape(-1, order + 1, 2))
        result.labels.append(np.array(labels, dtype=np.uint8))
    return result


def _longest_contours(frame: np.ndarray, min_length: float, order: int) -> list[tuple[int, np.ndarray]]:
    """(label, (M, 2) points) of every region's outer contour (border tracing), longest first."""
    candidates = []
    for label in np.unique(frame):
        contours, _ = cv2.findContours((frame == label).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for contour in contours:
            length = cv2.arcLength(contour, True)
            if length >= min_length and len(contour) >= 2 * (order + 1):
                candidates.append((length, int(label), contour[:, 0, :].astype(np.float64)))
    candidates.sort(key=lambda c: -c[0])
    return [(label, points) for _, label, points in candidates]


def canonical_contour(points: np.ndarray, samples: int, sigma: float) -> np.ndarray:
    """(samples + 1, 2) closed polyline (last = first): evenly resampled by arc length, Gaussian-smoothed along
    the loop (sigma in pixels), wound clockwise on screen and starting at its topmost (then leftmost) point."""
    dense = samples * 4  # smooth and pick the start densely, so the start does not snap to a coarse grid
    closed = np.concatenate([points, points[:1]])
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))])
    where = np.linspace(0, arc[-1], dense, endpoint=False)
    loop = np.stack([np.interp(where, arc, closed[:, axis]) for axis in range(2)], 1)
    spacing = arc[-1] / dense
    if sigma > 0 and spacing > 0:
        radius = min(dense // 2 - 1, int(np.ceil(3 * sigma / spacing)))
        kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) * spacing / sigma) ** 2)
        padded = np.concatenate([loop[-radius:], loop, loop[:radius]]) if radius > 0 else loop
        loop = np.stack([np.convolve(padded[:, a], kernel / kernel.sum(), "valid") for a in range(2)], 1)
    x, y = loop[:, 0], loop[:, 1]
    if np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y) < 0:  # shoelace sign: y points down on screen
        loop = loop[::-1]
    top = np.lexsort((loop[:, 0], loop[:, 1]))[0]
    loop = np.roll(loop, -top, axis=0)[::4]
    return np.concatenate([loop, loop[:1]])


def fit_contour(points: np.ndarray, order: int, tolerance: float, max_pieces: int) -> list[np.ndarray] | None:
    """Fewest joined curves (1..max_pieces) that follow the closed polyline within `tolerance` pixels: one closed
    curve, or pieces between evenly spaced points with shared ends. When none does, the closest fit if it strays
    less than 3 tolerances (a big region roughly drawn beats a missing one), else None."""
    best_error, best = np.inf, None
    for pieces in range(1, max_pieces + 1):
        if pieces == 1:
            curves = [fit_bezier(points, order, closed=True)]
        else:
            cuts = np.linspace(0, len(points) - 1, pieces + 1).round().astype(int)
            curves = [fit_bezier(points[a:b + 1], order, ends=(points[a], points[b])) for a, b in zip(cuts, cuts[1:])]
        error = _fit_error(curves, points)
        if error <= tolerance:
            return curves
        if error < best_error:
            best_error, best = error, curves
    return best if best_error <= 3 * tolerance else None


def _fit_error(curves: list[np.ndarray], points: np.ndarray) -> float:
    """95th-percentile distance both ways between the contour and the joined curves: catches curves that miss the
    contour and loops that wander away from it."""
    drawn = np.concatenate([evaluate_bezier(c, 128) for c in curves])
    distance = np.sqrt(((points[:, None, :] - drawn[None, :, :]) ** 2).sum(-1))
    return float(max(np.percentile(distance.min(1), 95), np.percentile(distance.min(0), 95)))


def encode_segmentation(cond: SegmentationConditions, coding: Coding, height: int, width: int,
                        step: float = 1.0) -> bytes:
    out = ByteWriter()
    out.header(Section.SEGMENTATION, coding)
    out.u8(cond.order)
    if coding == Coding.BF16:
        for control, labels in zip(cond.control, cond.labels):
            out.u8(len(labels))
            out.raw(labels.tobytes())
            out.bf16(control / np.array([width, height], dtype=np.float32))
        return out.getvalue()
    step_code = int(np.clip(round(step * 4), 1, 255))
    out.u8(step_code)
    lo, hi = _quantized_box(height, width, step_code)
    enc = LaplaceEncoder(groups=5)
    prev_count, prev_labels, prev_q = 0, np.zeros(0, np.uint8), np.zeros((0, cond.order + 1, 2), np.int64)
    for control, labels in zip(cond.control, cond.labels):
        q = np.clip(np.round(control * 4 / step_code), lo, hi).astype(np.int64)
        enc.add([len(labels)], prev_count, COUNT, 0, MAX_CURVES)
        enc.add(labels, _label_predictions(prev_labels, len(labels)), LABEL, 0, 255)
        for k in range(len(labels)):
            ref = _reference_curve(labels, k, prev_labels, prev_q)
            for axis in range(2):
                if ref is not None:
                    enc.add(q[k, :, axis], ref[:, axis], TEMPORAL, lo[axis], hi[axis])
                else:
                    enc.add(q[k, :1, axis], (lo[axis] + hi[axis]) / 2, ANCHOR, lo[axis], hi[axis])
                    enc.add(q[k, 1:, axis], q[k, :-1, axis], SPATIAL, lo[axis], hi[axis])
        prev_count, prev_labels, prev_q = len(labels), labels, q
    out.raw(enc.finish())
    return out.getvalue()


def decode_segmentation(data: bytes, num_frames: int, height: int, width: int) -> SegmentationConditions:
    reader = ByteReader(data, "segmentation")
    coding = reader.header(Section.SEGMENTATION)
    order = check_limit(reader.u8(), 1, MAX_ORDER, "Bezier order")
    cond = SegmentationConditions(order)
    if coding == Coding.BF16:
        for _ in range(num_frames):
            count = reader.u8()
            cond.labels.append(np.frombuffer(reader.take(count), dtype=np.uint8).copy())
            numbers = reader.bf16(count * (order + 1) * 2).reshape(count, order + 1, 2)
            cond.control.append((numbers * np.array([width, height], dtype=np.float32)).astype(np.float32))
        reader.finish()
        return cond
    step_code = check_limit(reader.u8(), 1, 255, "segmentation step")
    lo, hi = _quantized_box(height, width, step_code)
    dec = LaplaceDecoder(reader.take(reader.remaining), groups=5, what="segmentation")
    prev_count, prev_labels, prev_q = 0, np.zeros(0, np.uint8), np.zeros((0, order + 1, 2), np.int64)
    for _ in range(num_frames):
        count = int(dec.read(1, prev_count, COUNT, 0, MAX_CURVES)[0])
        labels = dec.read(count, _label_predictions(prev_labels, count), LABEL, 0, 255).astype(np.uint8)
        q = np.zeros((count, order + 1, 2), dtype=np.int64)
        for k in range(count):
            ref = _reference_curve(labels, k, prev_labels, prev_q)
            for axis in range(2):
                if ref is not None:
                    q[k, :, axis] = dec.read(order + 1, ref[:, axis], TEMPORAL, lo[axis], hi[axis])
                else:
                    q[k, 0, axis] = dec.read(1, (lo[axis] + hi[axis]) / 2, ANCHOR, lo[axis], hi[axis])[0]
                    for i in range(1, order + 1):  # each point predicted from the one just decoded
                        q[k, i, axis] = dec.read(1, q[k, i - 1, axis], SPATIAL, lo[axis], hi[axis])[0]
        cond.labels.append(labels)
        cond.control.append((q * step_code / 4).astype(np.float32))
        prev_count, prev_labels, prev_q = count, labels, q
    dec.finish()
    return cond


def _quantized_box(height: int, width: int, step_code: int) -> tuple[np.ndarray, np.ndarray]:
    low, high = _coordinate_box(height, width)
    return np.floor(low * 4 / step_code).astype(int), np.ceil(high * 4 / step_code).astype(int)


def _label_predictions(prev_labels: np.ndarray, count: int) -> np.ndarray:
    """Label k is predicted by the previous frame's label k (curves are sorted by length, which is stable)."""
    pred = np.zeros(count)
    n = min(count, len(prev_labels))
    pred[:n] = prev_labels[:n]
    return pred


def _reference_curve(labels: np.ndarray, k: int, prev_labels: np.ndarray, prev_q: np.ndarray) -> np.ndarray | None:
    """The previous frame's curve with the same label and the same occurrence index of that label, if any."""
    occurrence = int(np.sum(labels[:k] == labels[k]))
    matches = np.flatnonzero(prev_labels == labels[k])
    return prev_q[matches[occurrence]] if occurrence < len(matches) else None


def region_polygons(control: np.ndarray, labels: np.ndarray, samples: int = 96) -> list[tuple[np.ndarray, int]]:
    """(points (P, 2) float, label) per region outline of one frame. Consecutive open curves of one label that
    join end to start (pieces of one contour) are chained into one polygon; anything else stands alone."""
    polygons, k = [], 0
    while k < len(control):
        chain = [control[k]]
        while (not np.allclose(chain[-1][-1], chain[0][0], atol=1e-3) and k + 1 < len(control)
               and labels[k + 1] == labels[k] and np.allclose(control[k + 1][0], chain[-1][-1], atol=1e-3)):
            k += 1
            chain.append(control[k])
        polygons.append((np.concatenate([evaluate_bezier(c, samples) for c in chain]), int(labels[k])))
        k += 1
    return polygons


def _painting_order(polygons: list[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, int]]:
    """Largest enclosed area first, so nested regions stay visible."""
    areas = [abs(cv2.contourArea(p.astype(np.float32))) for p, _ in polygons]
    return [polygons[k] for k in np.argsort(areas, kind="stable")[::-1]]


def rasterize_segmentation(cond: SegmentationConditions, height: int, width: int) -> np.ndarray:
    """(T, H, W) uint8 label map the curves describe, painted like `render_segmentation`; 255 where no curve
    covers a pixel."""
    out = np.full((len(cond.control), height, width), 255, dtype=np.uint8)
    for frame, control, labels in zip(out, cond.control, cond.labels):
        for points, label in _painting_order(region_polygons(control, labels)):
            cv2.fillPoly(frame, np.round(points).astype(np.int32)[None], label)
    return out


def region_iou(label_maps: np.ndarray, cond: SegmentationConditions) -> float:
    """Frequency-weighted IoU between the label maps (T, H, W) and the regions the curves fill: per frame, each
    label's IoU weighted by its share of the frame, averaged over frames. 1 = the curves redraw the map."""
    drawn = rasterize_segmentation(cond, *label_maps.shape[1:3])
    scores = []
    for truth, guess in zip(label_maps, drawn):
        labels, counts = np.unique(truth, return_counts=True)
        ious = [np.logical_and(truth == lab, guess == lab).sum() / np.logical_or(truth == lab, guess == lab).sum()
                for lab in labels]
        scores.append(float(np.dot(ious, counts) / counts.sum()))
    return float(np.mean(scores))


def render_segmentation(cond: SegmentationConditions, height: int, width: int) -> np.ndarray:
    """Filled regions in their label colour, largest enclosed area first (so nested regions stay visible),
    outlined in white."""
    frames = np.zeros((len(cond.control), height, width, 3), dtype=np.uint8)
    thickness = max(1, round(max(height, width) / 400))
    for frame, control, labels in zip(frames, cond.control, cond.labels):
        for points, label in _painting_order(region_polygons(control, labels)):
            points = np.round(points).astype(np.int32)[None]
            cv2.fillPoly(frame, points, LABEL_COLOURS[label].tolist(), lineType=cv2.LINE_AA)
            cv2.polylines(frame, points, True, (255, 255, 255), thickness, lineType=cv2.LINE_AA)
    return frames
