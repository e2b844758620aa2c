"""Segmenters: frames -> per-frame label maps. Pluggable; the default runs offline on a CPU.

The paper uses Mask2Former panoptic maps. Its weights are not reachable offline, so the default,
`LabClusterSegmenter`, clusters pixels by colour (CIE Lab) and position, warm-starting each frame from the
previous frame's centres so region labels stay stable over time, and marks people with MediaPipe selfie
segmentation when mediapipe is installed. `Mask2FormerSegmenter` is the paper's path for users who have the
transformers weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from genvc.errors import InputError, ModelError


@runtime_checkable
class Segmenter(Protocol):
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(T, H, W, 3) uint8 RGB -> (T, H, W) uint8 labels, the same label for the same region over time."""


@dataclass
class LabClusterConfig:
    clusters: int = 10
    work_width: int = 160  # segmentation runs on a downscaled copy, labels are upscaled
    spatial_weight: float = 30.0  # Lab units per frame width: how much position matters next to colour
    iterations: int = 4  # Lloyd iterations per frame after the warm start
    mean_shift: tuple[float, float] = (6.0, 16.0)  # (spatial, colour) radii of the edge-preserving pre-filter
    merge_colour: float = 10.0  # clusters whose mean colours are closer than this (Lab units) share one label
    smooth: int = 7  # majority (mode) filter size on the label map, odd; 1 = off
    min_area: float = 0.01  # connected regions below this fraction of the frame merge into their neighbour
    people: bool = True  # selfie segmentation as its own label, when mediapipe is installed
    person_threshold: float = 0.5


class LabClusterSegmenter:
    """K-means on (L, a, b, x, y) of a mean-shift-filtered frame, warm-started from the previous frame, then
    cleaned (majority filter, small regions merged into a neighbour) so it yields few, large, smooth regions with
    stable ids; people get label `clusters`."""

    def __init__(self, config: LabClusterConfig | None = None) -> None:
        self.config = config or LabClusterConfig()
        if not 1 <= self.config.clusters <= 254:
            raise InputError("clusters must be in 1..254")
        if self.config.smooth < 1 or self.config.smooth % 2 == 0:
            raise InputError("smooth must be an odd size >= 1")

    def _work_size(self, height: int, width: int) -> tuple[int, int]:
        work_w = min(self.config.work_width, width)
        return max(1, round(height * work_w / width)), work_w

    def _features(self, small: np.ndarray) -> np.ndarray:
        if self.config.mean_shift[0] > 0:  # flattens texture inside objects, keeps their edges
            small = cv2.pyrMeanShiftFiltering(small, *self.config.mean_shift)
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
        sh, sw = small.shape[:2]
        ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
        weight = self.config.spatial_weight / sw
        feats = np.concatenate([lab, (xs * weight)[..., None], (ys * weight)[..., None]], axis=-1)
        return feats.reshape(-1, 5)

    def _initial_centres(self, feats: np.ndarray) -> np.ndarray:
        cv2.setRNGSeed(0)  # deterministic k-means++ seeding
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 0.5)
        k = min(self.config.clusters, len(feats))
        _, _, centres = cv2.kmeans(feats, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
        return centres

    def _lloyd(self, feats: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        columns = np.ascontiguousarray(feats.T)
        for _ in range(self.config.iterations):
            labels = _nearest(columns, centres)
            counts = np.bincount(labels, minlength=len(centres))
            sums = np.stack([np.bincount(labels, weights=c, minlength=len(centres)) for c in columns], 1)
            filled = counts > 0  # an emptied cluster keeps its old centre
            centres[filled] = sums[filled] / counts[filled, None]
        return _nearest(columns, centres), centres

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        t, h, w = frames.shape[:3]
        sh, sw = self._work_size(h, w)
        person = _person_masks(frames, self.config.person_threshold) if self.config.people else None
        out = np.empty((t, h, w), dtype=np.uint8)
        centres = None
        for i, frame in enumerate(frames):
            small = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)
            feats = self._features(small)
            if centres is None:
                centres = self._initial_centres(feats)
            labels, centres = self._lloyd(feats, centres.copy())
            labels = _merge_similar_colours(centres, self.config.merge_colour)[labels]
            labels = majority_filter(labels.reshape(sh, sw).astype(np.uint8), self.config.smooth)
            if person is not None and person[i].any():
                small_person = cv2.resize(person[i].astype(np.uint8), (sw, sh), interpolation=cv2.INTER_AREA) > 0
                labels[_largest_component(small_person)] = self.config.clusters
            labels = merge_small_regions(labels, round(self.config.min_area * sh * sw))
            out[i] = upsample_labels(labels, h, w)
        return out


def _nearest(columns: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each feature column of (D, P); a loop over the few centres is faster than
    a BLAS product on a busy machine."""
    return np.stack([((columns - c[:, None]) ** 2).sum(0) for c in centres]).argmin(0)


def _merge_similar_colours(centres: np.ndarray, distance: float) -> np.ndarray:
    """Cluster -> label map joining clusters of near-equal colour (k-means with position splits a large plain
    surface into slabs); each group takes its smallest cluster index, which keeps labels stable over time."""
    label = np.arange(len(centres))
    colour = centres[:, :3]
    for i in range(len(centres)):
        for j in range(i):
            if np.linalg.norm(colour[i] - colour[j]) < distance:
                label[label == label[i]] = label[j]
    return label


def majority_filter(labels: np.ndarray, size: int) -> np.ndarray:
    """Each pixel takes the most common label in its size×size window: removes speckle, rounds jagged edges."""
    if size <= 1:
        return labels
    ids = np.unique(labels)
    votes = np.stack([cv2.blur((labels == k).astype(np.float32), (size, size)) for k in ids])
    return ids[votes.argmax(0)].astype(labels.dtype)


def merge_small_regions(labels: np.ndarray, min_pixels: int) -> np.ndarray:
    """Connected regions smaller than `min_pixels` take the label most common along their border, smallest first,
    so a fragment joins the region around it instead of becoming a contour of its own."""
    labels = labels.copy()
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(4):  # a merge can leave a region that is still small (two fragments side by side)
        pieces = []
        for k in np.unique(labels):
            count, comp, stats, _ = cv2.connectedComponentsWithStats((labels == k).astype(np.uint8), connectivity=4)
            pieces += [(stats[c, cv2.CC_STAT_AREA], comp == c) for c in range(1, count)
                       if stats[c, cv2.CC_STAT_AREA] < min_pixels]
        if not pieces or len(pieces) == _count_regions(labels):
            break
        for _, piece in sorted(pieces, key=lambda p: p[0]):
            ring = cv2.dilate(piece.astype(np.uint8), kernel).astype(bool) & ~piece
            neighbours = labels[ring]
            if len(neighbours):
                labels[piece] = np.bincount(neighbours).argmax()
    return labels


def _count_regions(labels: np.ndarray) -> int:
    return sum(cv2.connectedComponents((labels == k).astype(np.uint8), connectivity=4)[0] - 1 for k in np.unique(labels))


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest connected part of a mask with its holes filled: one region for the person."""
    count, comp, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask
    largest = comp == 1 + stats[1:, cv2.CC_STAT_AREA].argmax()
    contours, _ = cv2.findContours(largest.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(filled, contours, -1, 1, cv2.FILLED)
    return filled.astype(bool)


def upsample_labels(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Labels at full size with smooth (not blocky) boundaries: each label's mask is upscaled bilinearly and
    every pixel takes the label with the highest value."""
    if labels.shape == (height, width):
        return labels
    ids = np.unique(labels)
    if len(ids) == 1:
        return np.full((height, width), ids[0], labels.dtype)
    soft = np.stack([cv2.resize((labels == k).astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
                     for k in ids])
    return ids[soft.argmax(0)].astype(labels.dtype)


def _person_masks(frames: np.ndarray, threshold: float) -> np.ndarray | None:
    """(T, H, W) bool person masks from MediaPipe selfie segmentation, or None without mediapipe."""
    try:
        from mediapipe.python.solutions.selfie_segmentation import SelfieSegmentation
    except ImportError:
        return None
    with SelfieSegmentation(model_selection=1) as model:
        masks = [model.process(np.ascontiguousarray(f)).segmentation_mask for f in frames]
    masks = np.stack(masks) > threshold
    # Tiny blobs are noise, not people.
    return masks if masks.mean() > 0.01 else np.zeros_like(masks)


class Mask2FormerSegmenter:
    """Panoptic Mask2Former through transformers (the paper's segmenter); labels are class ids (COCO: < 133)."""

    def __init__(self, model_id: str = "facebook/mask2former-swin-large-coco-panoptic", device: str = "cpu",
                 local_files_only: bool = False) -> None:
        try:
            from transformers import AutoImageProcessor, Mask2FormerForUniversalSegmentation
        except ImportError as exc:
            raise ModelError(f"Mask2Former needs transformers: {exc}") from None
        try:
            self.processor = AutoImageProcessor.from_pretrained(model_id, local_files_only=local_files_only)
            self.model = Mask2FormerForUniversalSegmentation.from_pretrained(
                model_id, local_files_only=local_files_only).to(device).eval()
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load Mask2Former {model_id!r}: {exc}") from None
        self.device = device

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        import torch

        out = np.zeros(frames.shape[:3], dtype=np.uint8)
        for i, frame in enumerate(frames):
            inputs = self.processor(images=frame, return_tensors="pt").to(self.device)
            with torch.no_grad():
                outputs = self.model(**inputs)
            result = self.processor.post_process_panoptic_segmentation(outputs, target_sizes=[frame.shape[:2]])[0]
            segments = result["segmentation"].cpu().numpy()
            for info in result["segments_info"]:
                out[i][segments == info["id"]] = min(int(info["label_id"]) + 1, 255)
        return out
