"""Human pose condition: 21 2D joints per person (the paper's SMPL body joints), people smaller than ξ dropped.

BlazePose (MediaPipe, offline) gives 33 landmarks for one person per frame; `BLAZEPOSE_TO_SMPL21` maps them to
the 21 SMPL body joints (pelvis excluded) as fixed weighted averages. A joint is sent as visible when all its
source landmarks are visible and it lies inside the frame; an invisible joint is a bf16 NaN in the paper's
format and one "invisible" symbol in the entropy-coded format.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from genvc.bitstream.sections import Section
from genvc.conditions.bitio import ByteReader, ByteWriter, Coding, check_limit
from genvc.conditions.entropy import LaplaceDecoder, LaplaceEncoder
from genvc.conditions.palette import LABEL_COLOURS

logger = logging.getLogger(__name__)

NUM_JOINTS = 21
MAX_PEOPLE = 16
COUNT, VISIBLE, TEMPORAL, SPATIAL = range(4)  # entropy groups

SMPL21_NAMES = (
    "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle", "right_ankle", "spine3",
    "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
# SMPL kinematic tree among the 21 joints; the pelvis is drawn as the hip-to-hip and hips-to-spine1 bones, and
# collars hang from the neck (not spine3) so a head-and-shoulders shot still shows a connected skeleton.
BONES = (
    (0, 1), (0, 2), (1, 2), (0, 3), (1, 4), (2, 5), (3, 6), (4, 7), (5, 8), (6, 9), (7, 10), (8, 11), (11, 12),
    (11, 13), (11, 14), (12, 15), (13, 16), (15, 17), (16, 18), (17, 19), (18, 20),
)
_HIPS = {23: 0.5, 24: 0.5}
_SHOULDERS = {11: 0.5, 12: 0.5}


def _mix(a: dict, b: dict, t: float) -> dict:
    out = {k: (1 - t) * v for k, v in a.items()}
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + t * v
    return out


_SOURCES = (
    {23: 1.0}, {24: 1.0}, _mix(_HIPS, _SHOULDERS, 0.25), {25: 1.0}, {26: 1.0}, _mix(_HIPS, _SHOULDERS, 0.5),
    {27: 1.0}, {28: 1.0}, _mix(_HIPS, _SHOULDERS, 0.75), {31: 1.0}, {32: 1.0}, _SHOULDERS,
    {11: 0.75, 12: 0.25}, {12: 0.75, 11: 0.25}, {7: 0.5, 8: 0.5}, {11: 1.0}, {12: 1.0}, {13: 1.0}, {14: 1.0},
    {15: 1.0}, {16: 1.0},
)
BLAZEPOSE_TO_SMPL21 = np.zeros((NUM_JOINTS, 33), dtype=np.float32)
for _j, _src in enumerate(_SOURCES):
    for _k, _w in _src.items():
        BLAZEPOSE_TO_SMPL21[_j, _k] = _w


def blazepose_to_smpl21(landmarks: np.ndarray, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(33, 3) [x, y, visibility] -> joints (21, 2) and visibility (21,) bool (all sources above threshold)."""
    joints = BLAZEPOSE_TO_SMPL21 @ landmarks[:, :2]
    sources = BLAZEPOSE_TO_SMPL21 > 0
    visible = np.array([landmarks[row, 2].min() >= threshold for row in sources])
    return joints.astype(np.float32), visible


class PoseEstimator(Protocol):
    def __call__(self, frames: np.ndarray) -> list[np.ndarray]:
        """(T, H, W, 3) uint8 RGB -> per frame (P, 33, 3) BlazePose landmarks [x px, y px, visibility]."""


def mediapipe_available() -> bool:
    try:
        from mediapipe.python.solutions import pose  # noqa: F401
    except ImportError:
        return False
    return True


class BlazePoseEstimator:
    """MediaPipe BlazePose (legacy `solutions.pose`, tracking mode): at most one person per frame."""

    def __init__(self, model_complexity: int = 1, min_confidence: float = 0.5) -> None:
        from mediapipe.python.solutions.pose import Pose  # ImportError without the `pose` extra

        self._make = lambda: Pose(static_image_mode=False, model_complexity=model_complexity,
                                  min_detection_confidence=min_confidence, min_tracking_confidence=min_confidence)

    def __call__(self, frames: np.ndarray) -> list[np.ndarray]:
        h, w = frames.shape[1:3]
        out = []
        with self._make() as model:
            for frame in frames:
                result = model.process(np.ascontiguousarray(frame))
                if result.pose_landmarks is None:
                    out.append(np.zeros((0, 33, 3), dtype=np.float32))
                    continue
                marks = np.array([[p.x * w, p.y * h, p.visibility] for p in result.pose_landmarks.landmark])
                out.append(marks[None].astype(np.float32))
        return out


@dataclass
class PoseConditions:
    joints: list[np.ndarray] = field(default_factory=list)  # per frame (P, 21, 2) float32, (x, y) pixels
    visible: list[np.ndarray] = field(default_factory=list)  # per frame (P, 21) bool

    @property
    def num_numbers(self) -> int:
        return sum(j.size for j in self.joints)


def extract_pose(landmarks: list[np.ndarray], height: int, width: int, min_area: float) -> PoseConditions:
    """Map each person to 21 joints; keep people whose visible joints' bounding box covers ≥ min_area of the frame."""
    cond = PoseConditions()
    for people in landmarks:
        joints, visible = [], []
        for person in people[:MAX_PEOPLE]:
            j, v = blazepose_to_smpl21(person)
            v &= (j[:, 0] >= 0) & (j[:, 0] <= width - 1) & (j[:, 1] >= 0) & (j[:, 1] <= height - 1)
            if v.sum() < 2:
                continue
            box = j[v].max(0) - j[v].min(0)
            if box[0] * box[1] >= min_area * height * width:
                joints.append(np.where(v[:, None], j, 0.0))
                visible.append(v)
        cond.joints.append(np.array(joints, dtype=np.float32).reshape(-1, NUM_JOINTS, 2))
        cond.visible.append(np.array(visible, dtype=bool).reshape(-1, NUM_JOINTS))
    return cond


def encode_pose(cond: PoseConditions, coding: Coding, height: int, width: int, step: float = 1.0) -> bytes:
    out = ByteWriter()
    out.header(Section.POSE, coding)
    if coding == Coding.BF16:
        scale = np.array([width, height], dtype=np.float32)
        for joints, visible in zip(cond.joints, cond.visible):
            out.u8(len(joints))
            out.bf16(np.where(visible[..., None], joints / scale, np.nan))
        return out.getvalue()
    step_code = int(np.clip(round(step * 4), 1, 255))
    out.u8(step_code)
    high = _quantized_max(height, width, step_code)
    enc = LaplaceEncoder(groups=4)
    prev_j, prev_v = np.zeros((0, NUM_JOINTS, 2), np.int64), np.zeros((0, NUM_JOINTS), bool)
    for joints, visible in zip(cond.joints, cond.visible):
        q = np.clip(np.round(joints * 4 / step_code), 0, high).astype(np.int64)
        enc.add([len(q)], len(prev_j), COUNT, 0, MAX_PEOPLE)
        for p in range(len(q)):
            ref_v = prev_v[p] if p < len(prev_v) else np.ones(NUM_JOINTS, bool)
            enc.add(visible[p], ref_v, VISIBLE, 0, 1)
            for i in np.flatnonzero(visible[p]):
                args = _joint_prediction(q[p], visible[p], i, p, prev_j, prev_v, high)
                enc.add(q[p, i], args[0], args[1], 0, high)
        prev_j, prev_v = q, visible
    out.raw(enc.finish())
    return out.getvalue()


def decode_pose(data: bytes, num_frames: int, height: int, width: int) -> PoseConditions:
    reader = ByteReader(data, "pose")
    coding = reader.header(Section.POSE)
    cond = PoseConditions()
    if coding == Coding.BF16:
        scale = np.array([width, height], dtype=np.float32)
        for _ in range(num_frames):
            count = check_limit(reader.u8(), 0, MAX_PEOPLE, "people in a frame")
            numbers = reader.bf16(count * NUM_JOINTS * 2).reshape(count, NUM_JOINTS, 2)
            visible = ~np.isnan(numbers).any(-1)
            cond.joints.append(np.where(visible[..., None], numbers * scale, 0).astype(np.float32))
            cond.visible.append(visible)
        reader.finish()
        return cond
    step_code = check_limit(reader.u8(), 1, 255, "pose step")
    high = _quantized_max(height, width, step_code)
    dec = LaplaceDecoder(reader.take(reader.remaining), groups=4, what="pose")
    prev_j, prev_v = np.zeros((0, NUM_JOINTS, 2), np.int64), np.zeros((0, NUM_JOINTS), bool)
    for _ in range(num_frames):
        count = int(dec.read(1, len(prev_j), COUNT, 0, MAX_PEOPLE)[0])
        q = np.zeros((count, NUM_JOINTS, 2), np.int64)
        visible = np.zeros((count, NUM_JOINTS), bool)
        for p in range(count):
            ref_v = prev_v[p] if p < len(prev_v) else np.ones(NUM_JOINTS, bool)
            visible[p] = dec.read(NUM_JOINTS, ref_v, VISIBLE, 0, 1).astype(bool)
            for i in np.flatnonzero(visible[p]):
                mean, group = _joint_prediction(q[p], visible[p], i, p, prev_j, prev_v, high)
                q[p, i] = dec.read(2, mean, group, 0, high)
        cond.joints.append((q * step_code / 4).astype(np.float32))
        cond.visible.append(visible)
        prev_j, prev_v = q, visible
    dec.finish()
    return cond


def _quantized_max(height: int, width: int, step_code: int) -> int:
    return int(np.ceil(max(height, width) * 4 / step_code))


def _joint_prediction(person, visible, i, p, prev_j, prev_v, high):
    """Same joint of the same person in the previous frame; else the last visible joint before it; else centre."""
    if p < len(prev_j) and prev_v[p, i]:
        return prev_j[p, i], TEMPORAL
    before = np.flatnonzero(visible[:i])
    return (person[before[-1]] if len(before) else np.full(2, high / 2)), SPATIAL


def render_pose(cond: PoseConditions, height: int, width: int) -> np.ndarray:
    """Skeletons on black: one colour per bone, white joints."""
    frames = np.zeros((len(cond.joints), height, width, 3), dtype=np.uint8)
    thickness = max(2, round(max(height, width) / 160))
    for frame, people, visible in zip(frames, cond.joints, cond.visible):
        for joints, vis in zip(people, visible):
            pts = np.round(joints).astype(np.int32)
            for b, (i, k) in enumerate(BONES):
                if vis[i] and vis[k]:
                    colour = LABEL_COLOURS[b + 1].tolist()
                    cv2.line(frame, tuple(pts[i].tolist()), tuple(pts[k].tolist()), colour, thickness, cv2.LINE_AA)
            for i in np.flatnonzero(vis):
                cv2.circle(frame, tuple(pts[i].tolist()), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return frames
