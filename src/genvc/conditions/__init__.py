"""Multi-C conditions: segmentation contours as Bezier curves, 2D pose, sparse optical flow and text.

Per modality: extract from frames -> a compact payload -> bytes (the paper's bf16 numbers, or quantized and
rANS coded) -> parse -> render to a dense (T, H, W, 3) image sequence the generator is conditioned on.
"""

from genvc.conditions.bitio import Coding
from genvc.conditions.clip import (MODALITIES, ClipConditions, decode_conditions, encode_conditions,
                                   extract_conditions, render_conditions)
from genvc.conditions.flow import DISFlow, FlowConditions, FlowEstimator, TorchFlow
from genvc.conditions.levels import LEVELS, LevelConfig, level_config
from genvc.conditions.pose import BlazePoseEstimator, PoseConditions, PoseEstimator, mediapipe_available
from genvc.conditions.rate import ModalityBytes, condition_bytes_report, eq1_condition_bytes
from genvc.conditions.segmentation import SegmentationConditions
from genvc.conditions.segmenter import LabClusterConfig, LabClusterSegmenter, Mask2FormerSegmenter, Segmenter
from genvc.conditions.text import Captioner

__all__ = [
    "MODALITIES", "LEVELS", "BlazePoseEstimator", "Captioner", "ClipConditions", "Coding", "DISFlow",
    "FlowConditions", "FlowEstimator", "LabClusterConfig", "LabClusterSegmenter", "LevelConfig",
    "Mask2FormerSegmenter", "ModalityBytes", "PoseConditions", "PoseEstimator", "SegmentationConditions",
    "Segmenter", "TorchFlow", "condition_bytes_report", "decode_conditions", "encode_conditions",
    "eq1_condition_bytes", "extract_conditions", "level_config", "mediapipe_available", "render_conditions",
]
