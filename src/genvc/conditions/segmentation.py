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
FIT_POINTS = 256  # contour points kept for the fit (evenly subsampled); plenty for an order-8 curve
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


def extract_segmentation(label_maps: np.ndarray, num_curves: int, order: int = 8) -> SegmentationConditions:
    """(T, H, W) labels -> the `num_curves` longest outer contours per frame as Bezier control points."""
    h, w = label_maps.shape[1:3]
    low, high = _coordinate_box(h, w)
    result = SegmentationConditions(order)
    for frame in label_maps:
        candidates = []
        for label in np.unique(frame):
            mask = (frame == label).astype(np.uint8)
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            for contour in contours:
                if len(contour) >= 2 * (order + 1):
                    candidates.append((cv2.arcLength(contour, True), int(label), contour[:, 0, :]))
        candidates.sort(key=lambda c: -c[0])
        controls, labels = [], []
        for _, label, points in candidates[: min(num_curves, MAX_CURVES)]:
            closed = np.concatenate([points, points[:1]]).astype(np.float64)
            if len(closed) > FIT_POINTS:
                closed = closed[np.linspace(0, len(closed) - 1, FIT_POINTS).round().astype(int)]
            controls.append(np.clip(fit_bezier(closed, order), low, high))
            labels.append(label)
        result.control.append(np.array(controls, dtype=np.float32).reshape(-1, order + 1, 2))
        result.labels.append(np.array(labels, dtype=np.uint8))
    return result


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
            cond.labels.append(np.frombuffer(reader.raw(count), dtype=np.uint8).copy())
            numbers = reader.bf16(count * (order + 1) * 2).reshape(count, order + 1, 2)
            cond.control.append((numbers * np.array([width, height], dtype=np.float32)).astype(np.float32))
        reader.finish()
        return cond
    step_code = check_limit(reader.u8(), 1, 255, "segmentation step")
    lo, hi = _quantized_box(height, width, step_code)
    dec = LaplaceDecoder(reader.raw(reader.remaining), groups=5, what="segmentation")
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


def render_segmentation(cond: SegmentationConditions, height: int, width: int) -> np.ndarray:
    """Filled regions in their label colour, largest enclosed area first (so nested regions stay visible),
    outlined in white."""
    frames = np.zeros((len(cond.control), height, width, 3), dtype=np.uint8)
    thickness = max(1, round(max(height, width) / 400))
    for frame, control, labels in zip(frames, cond.control, cond.labels):
        polygons = [np.round(evaluate_bezier(curve, 96)).astype(np.int32) for curve in control]
        areas = [abs(cv2.contourArea(p)) for p in polygons]
        for k in np.argsort(areas, kind="stable")[::-1]:
            points, label = polygons[k][None], labels[k]
            cv2.fillPoly(frame, points, LABEL_COLOURS[label].tolist(), lineType=cv2.LINE_AA)
            cv2.polylines(frame, points, True, (255, 255, 255), thickness, lineType=cv2.LINE_AA)
    return frames
