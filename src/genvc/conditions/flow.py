"""Optical-flow condition: dense flow per consecutive frame pair, sampled on the paper's stride-l grid.

Grid points are (x, y) = (j·l, i·l) for i = 1..⌊H/l⌋, j = 1..⌊W/l⌋ (clamped into the frame), as in the paper.
Each sample is the flow smoothed over about a block (Gaussian, σ = l/4) rather than one pixel's vector, so it
stands for its block. Dense flow comes from OpenCV DIS by default; any `FlowEstimator` (e.g. RAFT) plugs in.
Entropy coding quantizes vectors to `step` pixels and predicts each from the previous pair's vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import cv2
import numpy as np

from genvc.bitstream.sections import Section
from genvc.conditions.bitio import ByteReader, ByteWriter, Coding, check_limit
from genvc.conditions.entropy import LaplaceDecoder, LaplaceEncoder
from genvc.errors import FormatError

MAX_FLOW = 512.0  # pixels; larger vectors are clipped
MAX_GRID_POINTS = 1 << 20  # per clip


class FlowEstimator(Protocol):
    def __call__(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Two (H, W, 3) uint8 RGB frames -> (H, W, 2) float32 flow (dx, dy) in pixels from first to second."""


class DISFlow:
    """OpenCV's Dense Inverse Search: fast, CPU-only, no weights."""

    PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
               "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}

    def __init__(self, preset: str = "medium") -> None:
        self._dis = cv2.DISOpticalFlow_create(self.PRESETS[preset])

    def __call__(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        a = cv2.cvtColor(first, cv2.COLOR_RGB2GRAY)
        b = cv2.cvtColor(second, cv2.COLOR_RGB2GRAY)
        return self._dis.calc(a, b, None)


class TorchFlow:
    """Wraps a torch flow network such as RAFT: `model(image1, image2)` on (1, 3, H, W) tensors in [-1, 1]
    returning a (1, 2, H, W) flow or a list of refinements (the last one is used)."""

    def __init__(self, model: Callable, device: str = "cpu") -> None:
        self.model, self.device = model, device

    def __call__(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        import torch

        def prep(img):
            return torch.from_numpy(img).permute(2, 0, 1)[None].float().div(127.5).sub(1).to(self.device)

        with torch.no_grad():
            flow = self.model(prep(first), prep(second))
        flow = flow[-1] if isinstance(flow, (list, tuple)) else flow
        return flow[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)


def grid_shape(height: int, width: int, stride: int) -> tuple[int, int]:
    return height // stride, width // stride


def grid_positions(height: int, width: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Row (y) and column (x) pixel indices of the sampled grid."""
    rows, cols = grid_shape(height, width, stride)
    ys = np.minimum(np.arange(1, rows + 1) * stride, height - 1)
    xs = np.minimum(np.arange(1, cols + 1) * stride, width - 1)
    return ys, xs


@dataclass
class FlowConditions:
    stride: int
    vectors: np.ndarray  # (T−1, rows, cols, 2) float32 (dx, dy) in pixels, pair t = frame t -> t+1

    @property
    def num_numbers(self) -> int:
        return self.vectors.size


def extract_flow(frames: np.ndarray, stride: int, estimator: FlowEstimator | None = None) -> FlowConditions:
    estimator = estimator or DISFlow()
    h, w = frames.shape[1:3]
    ys, xs = grid_positions(h, w, stride)
    vectors = np.zeros((max(len(frames) - 1, 0), len(ys), len(xs), 2), dtype=np.float32)
    for t in range(len(frames) - 1):
        dense = estimator(frames[t], frames[t + 1])
        dense = cv2.GaussianBlur(dense, (0, 0), sigmaX=stride / 4)
        vectors[t] = dense[ys][:, xs]
    return FlowConditions(stride, np.clip(vectors, -MAX_FLOW, MAX_FLOW))


def encode_flow(cond: FlowConditions, coding: Coding, step: float = 0.25) -> bytes:
    out = ByteWriter()
    out.header(Section.FLOW, coding)
    out.u16(cond.stride)
    if coding == Coding.BF16:
        out.bf16(cond.vectors)
        return out.getvalue()
    step_code = int(np.clip(round(step * 16), 1, 255))  # in 1/16 pixel
    out.u8(step_code)
    limit = int(np.ceil(MAX_FLOW * 16 / step_code))
    q = np.clip(np.round(cond.vectors * 16 / step_code), -limit, limit).astype(np.int64)
    enc = LaplaceEncoder(groups=1)
    prev = np.zeros(q.shape[1:], dtype=np.int64)
    for pair in q:
        enc.add(pair, prev, 0, -limit, limit)
        prev = pair
    out.raw(enc.finish())
    return out.getvalue()


def decode_flow(data: bytes, num_frames: int, height: int, width: int) -> FlowConditions:
    reader = ByteReader(data, "flow")
    coding = reader.header(Section.FLOW)
    stride = check_limit(reader.u16(), 8, 4096, "flow stride")
    rows, cols = grid_shape(height, width, stride)
    pairs = max(num_frames - 1, 0)
    if pairs * rows * cols > MAX_GRID_POINTS:
        raise FormatError(f"flow grid of {pairs}x{rows}x{cols} points is over the limit")
    shape = (pairs, rows, cols, 2)
    if coding == Coding.BF16:
        vectors = reader.bf16(int(np.prod(shape))).reshape(shape)
        reader.finish()
        if not np.isfinite(vectors).all():
            raise FormatError("flow payload holds non-finite numbers")
        return FlowConditions(stride, vectors.astype(np.float32))
    step_code = check_limit(reader.u8(), 1, 255, "flow step")
    limit = int(np.ceil(MAX_FLOW * 16 / step_code))
    dec = LaplaceDecoder(reader.take(reader.remaining), groups=1, what="flow")
    q = np.zeros(shape, dtype=np.int64)
    prev = np.zeros(shape[1:], dtype=np.int64)
    for t in range(pairs):
        q[t] = dec.read(prev.size, prev.ravel(), 0, -limit, limit).reshape(shape[1:])
        prev = q[t]
    dec.finish()
    return FlowConditions(stride, (q * step_code / 16).astype(np.float32))


def render_flow(cond: FlowConditions, height: int, width: int, num_frames: int, gain: float = 4.0) -> np.ndarray:
    """Arrows on black at the grid points of frame t for pair t → t+1: direction = motion, length = gain ×
    magnitude (DIS flow between neighbouring frames is a few pixels), hue = direction. The last frame has none."""
    frames = np.zeros((num_frames, height, width, 3), dtype=np.uint8)
    ys, xs = grid_positions(height, width, cond.stride)
    thickness = max(1, round(max(height, width) / 320))
    for frame, pair in zip(frames, cond.vectors):
        for r, y in enumerate(ys):
            for c, x in enumerate(xs):
                dx, dy = pair[r, c]
                end = (int(round(x + gain * dx)), int(round(y + gain * dy)))
                hue = int((np.degrees(np.arctan2(dy, dx)) % 360) / 2)
                colour = cv2.cvtColor(np.uint8([[[hue, 200, 255]]]), cv2.COLOR_HSV2RGB)[0, 0].tolist()
                cv2.circle(frame, (int(x), int(y)), thickness + 1, colour, -1)
                cv2.arrowedLine(frame, (int(x), int(y)), end, colour, thickness, cv2.LINE_AA, tipLength=0.3)
    return frames
