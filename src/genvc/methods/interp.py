"""Motion-compensated interpolation between the two decoded keyframes: the zero-bit reference method.

Dense DIS optical flow is computed both ways between the keyframes (the decoder has both), and each inner frame
at time t ∈ (0, 1) blends the first keyframe warped by t·F(0→1) with the last warped by (1−t)·F(1→0).
It sends nothing but the keyframes, so it is the floor any learned method must beat.
"""

from __future__ import annotations

import cv2
import numpy as np

from genvc.methods.base import ClipContext, ClipMethod


def dense_flow(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """DIS optical flow (H×W×2, pixels) from `source` to `target`."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(cv2.cvtColor(source, cv2.COLOR_RGB2GRAY), cv2.cvtColor(target, cv2.COLOR_RGB2GRAY), None)


def warp(image: np.ndarray, flow: np.ndarray, amount: float) -> np.ndarray:
    """Backward warp: out(x) = image(x − amount·flow(x))."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x = grid_x - amount * flow[..., 0]
    map_y = grid_y - amount * flow[..., 1]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


#: forward/backward flow disagreement (pixels) drawn at full white in the occlusion map
OCCLUSION_FULL_SCALE = 8.0


def _consistency(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """|F(x) + B(x + F(x))| per pixel of the source of `forward`: large where the pixel is occluded in the target
    (or the flow is wrong)."""
    back_at_target = warp(backward, -forward, 1.0)  # B sampled at x + F(x)
    return np.linalg.norm(forward + back_at_target, axis=2)


def receiver_inputs(first: np.ndarray, last: np.ndarray, num_frames: int) -> dict[str, np.ndarray]:
    """What the receiver computes from the two decoded keyframes, before any side information (uint8
    T×H×W×3 each): "prediction" (the motion-compensated interpolation), "anchor_first"/"anchor_last" (each keyframe
    warped to every frame) and "occlusion" (forward/backward flow inconsistency warped to every frame, grey)."""
    shape = (num_frames, *first.shape)
    out = {name: np.empty(shape, np.uint8) for name in ("prediction", "anchor_first", "anchor_last", "occlusion")}
    forward = dense_flow(first, last)  # where first's pixels move to
    backward = dense_flow(last, first)
    occ_first = np.clip(_consistency(forward, backward) * (255 / OCCLUSION_FULL_SCALE), 0, 255).astype(np.float32)
    occ_last = np.clip(_consistency(backward, forward) * (255 / OCCLUSION_FULL_SCALE), 0, 255).astype(np.float32)
    first_f, last_f = first.astype(np.float32), last.astype(np.float32)
    for i in range(num_frames):
        t = i / max(1, num_frames - 1)
        from_first = warp(first_f, forward, t)
        from_last = warp(last_f, backward, 1.0 - t)
        occlusion = (1.0 - t) * warp(occ_first, forward, t) + t * warp(occ_last, backward, 1.0 - t)
        out["anchor_first"][i] = np.clip(from_first + 0.5, 0, 255)
        out["anchor_last"][i] = np.clip(from_last + 0.5, 0, 255)
        out["prediction"][i] = np.clip((1.0 - t) * from_first + t * from_last + 0.5, 0, 255)
        out["occlusion"][i] = np.clip(occlusion + 0.5, 0, 255)[..., None]
    out["prediction"][0], out["prediction"][-1] = first, last
    return out


def interpolate(first: np.ndarray, last: np.ndarray, num_frames: int) -> np.ndarray:
    """All `num_frames` frames from first to last (both included)."""
    if num_frames <= 2:
        frames = np.empty((num_frames, *first.shape), np.uint8)
        frames[0], frames[-1] = first, last
        return frames
    return receiver_inputs(first, last, num_frames)["prediction"]


class MotionInterpolation(ClipMethod):
    name = "interp"
    uses_bits = False

    def __init__(self, **_unused) -> None:
        pass

    def encode(self, frames: np.ndarray, ctx: ClipContext, budget_bytes: int | None) -> dict[int, bytes]:
        return {}

    def decode(self, sections: dict[int, bytes], ctx: ClipContext) -> np.ndarray:
        return interpolate(ctx.first, ctx.last, ctx.num_frames)
