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
    work_width: int = 160  # clustering runs on a downscaled copy, labels are upscaled
    spatial_weight: float = 60.0  # Lab units per frame width: how much position matters next to colour
    iterations: int = 4  # Lloyd iterations per frame after the warm start
    smooth: int = 5  # median filter size on the label map (odd)
    people: bool = True  # selfie segmentation as its own label, when mediapipe is installed
    person_threshold: float = 0.5


class LabClusterSegmenter:
    """K-means on (L, a, b, x, y) per frame, warm-started from the previous frame; people get label `clusters`."""

    def __init__(self, config: LabClusterConfig | None = None) -> None:
        self.config = config or LabClusterConfig()
        if not 1 <= self.config.clusters <= 254:
            raise InputError("clusters must be in 1..254")

    def _features(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        scale = self.config.work_width / w
        small = cv2.resize(frame, (self.config.work_width, max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
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
        for _ in range(self.config.iterations):
            dist = ((feats[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
            labels = dist.argmin(1)
            for k in range(len(centres)):  # an emptied cluster keeps its old centre
                members = feats[labels == k]
                if len(members):
                    centres[k] = members.mean(0)
        dist = ((feats[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        return dist.argmin(1), centres

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        t, h, w = frames.shape[:3]
        person = _person_masks(frames, self.config.person_threshold) if self.config.people else None
        out = np.empty((t, h, w), dtype=np.uint8)
        centres = None
        for i, frame in enumerate(frames):
            feats = self._features(frame)
            if centres is None:
                centres = self._initial_centres(feats)
            labels, centres = self._lloyd(feats, centres.copy())
            sh = round(h * self.config.work_width / w) or 1
            small = labels.reshape(sh, self.config.work_width).astype(np.uint8)
            if self.config.smooth > 1:
                small = cv2.medianBlur(small, self.config.smooth)
            out[i] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
            if person is not None:
                out[i][person[i]] = self.config.clusters
        return out


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
