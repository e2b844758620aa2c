"""All conditions of one clip: extract, encode to sections, decode, render."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from genvc.bitstream.sections import Section
from genvc.conditions.bitio import Coding, check_clip_shape
from genvc.conditions.flow import FlowConditions, FlowEstimator, decode_flow, encode_flow, extract_flow, render_flow
from genvc.conditions.levels import level_config
from genvc.conditions.pose import (BlazePoseEstimator, PoseConditions, PoseEstimator, decode_pose, encode_pose,
                                   extract_pose, mediapipe_available, render_pose)
from genvc.conditions.segmentation import (SegmentationConditions, decode_segmentation, encode_segmentation,
                                           extract_segmentation, render_segmentation)
from genvc.conditions.segmenter import LabClusterSegmenter, Segmenter
from genvc.conditions.text import decode_text, encode_text
from genvc.errors import FormatError, InputError

logger = logging.getLogger(__name__)

MODALITIES = ("segmentation", "pose", "flow", "text")
SECTION_OF = {"segmentation": Section.SEGMENTATION, "pose": Section.POSE, "flow": Section.FLOW, "text": Section.TEXT}


@dataclass
class ClipConditions:
    num_frames: int
    height: int
    width: int
    level: int | None = None  # None after decoding: the level is not needed to render
    segmentation: SegmentationConditions | None = None
    pose: PoseConditions | None = None
    flow: FlowConditions | None = None
    text: str | None = None
    timings: dict[str, float] = field(default_factory=dict, compare=False)  # extraction seconds per modality

    def present(self) -> list[str]:
        return [m for m in MODALITIES if getattr(self, m) is not None]


def extract_conditions(frames: np.ndarray, level: int, text: str | None = None, modalities=None, *,
                       segmenter: Segmenter | None = None, pose_estimator: PoseEstimator | None = None,
                       flow_estimator: FlowEstimator | None = None) -> ClipConditions:
    """Conditions of a clip's frames (T, H, W, 3) uint8 RGB at a Multi-C level (0 = none, keyframes only).

    Pose is left out, with one logged line, when mediapipe is not installed and no estimator is given."""
    frames = _check_frames(frames)
    config = level_config(level)
    wanted = set(MODALITIES if modalities is None else modalities)
    if unknown := wanted - set(MODALITIES):
        raise InputError(f"unknown condition modalities: {', '.join(sorted(unknown))}")
    t, h, w = frames.shape[:3]
    cond = ClipConditions(t, h, w, level)
    if not config.has_conditions:
        return cond
    if "segmentation" in wanted:
        start = time.perf_counter()
        labels = (segmenter or LabClusterSegmenter())(frames)
        cond.segmentation = extract_segmentation(labels, config.num_curves, config.bezier_order)
        cond.timings["segmentation"] = time.perf_counter() - start
    if "pose" in wanted:
        if pose_estimator is None and not mediapipe_available():
            logger.warning("pose condition skipped: mediapipe is not installed (pip install 'genvc[pose]')")
        else:
            start = time.perf_counter()
            landmarks = (pose_estimator or BlazePoseEstimator())(frames)
            cond.pose = extract_pose(landmarks, h, w, config.min_person_area)
            cond.timings["pose"] = time.perf_counter() - start
    if "flow" in wanted:
        start = time.perf_counter()
        cond.flow = extract_flow(frames, config.flow_stride, flow_estimator)
        cond.timings["flow"] = time.perf_counter() - start
    if "text" in wanted and text:
        cond.text = text
    return cond


def encode_conditions(cond: ClipConditions, coding: str | Coding = "entropy") -> dict[int, bytes]:
    """Sections {Section tag: payload}; each payload is self-describing given (num_frames, height, width)."""
    coding = Coding.parse(coding)
    h, w = cond.height, cond.width
    sections = {}
    if cond.segmentation is not None:
        sections[int(Section.SEGMENTATION)] = encode_segmentation(cond.segmentation, coding, h, w)
    if cond.pose is not None:
        sections[int(Section.POSE)] = encode_pose(cond.pose, coding, h, w)
    if cond.flow is not None:
        sections[int(Section.FLOW)] = encode_flow(cond.flow, coding)
    if cond.text is not None:
        sections[int(Section.TEXT)] = encode_text(cond.text, coding)
    return sections


def decode_conditions(sections: dict[int, bytes], num_frames: int, height: int, width: int) -> ClipConditions:
    """Inverse of `encode_conditions`; sections of other kinds (H, CONFIG) are ignored, unknown tags refused."""
    check_clip_shape(num_frames, height, width)
    known = {int(s) for s in Section}
    if unknown := set(sections) - known:
        raise FormatError(f"unknown section tags: {sorted(unknown)}")
    cond = ClipConditions(num_frames, height, width)
    if (data := sections.get(int(Section.SEGMENTATION))) is not None:
        cond.segmentation = decode_segmentation(data, num_frames, height, width)
    if (data := sections.get(int(Section.POSE))) is not None:
        cond.pose = decode_pose(data, num_frames, height, width)
    if (data := sections.get(int(Section.FLOW))) is not None:
        cond.flow = decode_flow(data, num_frames, height, width)
    if (data := sections.get(int(Section.TEXT))) is not None:
        cond.text = decode_text(data)
    return cond


def render_conditions(cond: ClipConditions, height: int | None = None, width: int | None = None
                      ) -> dict[str, np.ndarray]:
    """Dense (T, H, W, 3) uint8 images per present visual modality (what the generator is conditioned on)."""
    h, w = height or cond.height, width or cond.width
    scale = np.array([w / cond.width, h / cond.height], dtype=np.float32)
    out = {}
    if cond.segmentation is not None:
        seg = cond.segmentation
        scaled = SegmentationConditions(seg.order, [c * scale for c in seg.control], seg.labels)
        out["segmentation"] = render_segmentation(scaled, h, w)
    if cond.pose is not None:
        out["pose"] = render_pose(PoseConditions([j * scale for j in cond.pose.joints], cond.pose.visible), h, w)
    if cond.flow is not None:
        out["flow"] = render_flow(cond.flow, cond.height, cond.width, cond.num_frames)
        if (h, w) != (cond.height, cond.width):
            import cv2

            out["flow"] = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in out["flow"]])
    return out


def _check_frames(frames) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or frames.shape[0] < 1:
        raise InputError(f"frames must be uint8 (T, H, W, 3) with T ≥ 1, got {frames.dtype} {frames.shape}")
    if frames.shape[1] < 2 or frames.shape[2] < 2:
        raise InputError(f"frames of {frames.shape[2]}x{frames.shape[1]} are too small")
    return np.ascontiguousarray(frames)
