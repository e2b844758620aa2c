"""RGB ↔ Y'CbCr conversion (BT.601 / BT.709, full or limited range) and 4:2:0 chroma resampling.

Metrics use BT.709 full range by default, as DCVC does for its (6Y+U+V)/8 PSNR; the baselines are fed BT.709
limited-range 4:2:0 (what a real encoder sees) and converted back with the same matrix.
"""

from __future__ import annotations

import cv2
import numpy as np

KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def _coeffs(matrix: str) -> tuple[float, float, float]:
    if matrix not in KR_KB:
        raise ValueError(f"unknown colour matrix {matrix!r}; known: {', '.join(KR_KB)}")
    kr, kb = KR_KB[matrix]
    return kr, 1.0 - kr - kb, kb


def rgb_to_yuv(rgb: np.ndarray, matrix: str = "bt709", full_range: bool = True) -> np.ndarray:
    """uint8/float RGB (..., 3) in 0..255 → float64 Y'CbCr (..., 3) on the 0..255 scale (chroma centred at 128)."""
    kr, kg, kb = _coeffs(matrix)
    rgb = np.asarray(rgb, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = kr * r + kg * g + kb * b
    cb = (b - y) / (2.0 * (1.0 - kb))
    cr = (r - y) / (2.0 * (1.0 - kr))
    if not full_range:
        y, cb, cr = 16.0 + y * 219.0 / 255.0, cb * 224.0 / 255.0, cr * 224.0 / 255.0
    return np.stack([y, cb + 128.0, cr + 128.0], axis=-1)


def yuv_to_rgb(yuv: np.ndarray, matrix: str = "bt709", full_range: bool = True) -> np.ndarray:
    """Inverse of `rgb_to_yuv`; returns float64 RGB on the 0..255 scale (not clipped)."""
    kr, kg, kb = _coeffs(matrix)
    yuv = np.asarray(yuv, dtype=np.float64)
    y, cb, cr = yuv[..., 0], yuv[..., 1] - 128.0, yuv[..., 2] - 128.0
    if not full_range:
        y, cb, cr = (y - 16.0) * 255.0 / 219.0, cb * 255.0 / 224.0, cr * 255.0 / 224.0
    r = y + 2.0 * (1.0 - kr) * cr
    b = y + 2.0 * (1.0 - kb) * cb
    g = (y - kr * r - kb * b) / kg
    return np.stack([r, g, b], axis=-1)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def rgb_to_yuv420_planes(frame: np.ndarray, matrix: str = "bt709", full_range: bool = False) -> bytes:
    """One uint8 RGB frame (H, W, 3) with even H and W → raw yuv420p bytes (chroma = 2×2 mean, centre sited)."""
    yuv = rgb_to_yuv(frame, matrix, full_range)
    h, w = frame.shape[:2]
    chroma = yuv[..., 1:].reshape(h // 2, 2, w // 2, 2, 2).mean(axis=(1, 3))
    return _to_uint8(yuv[..., 0]).tobytes() + _to_uint8(chroma[..., 0]).tobytes() + _to_uint8(chroma[..., 1]).tobytes()


def yuv420_planes_to_rgb(data: bytes | np.ndarray, width: int, height: int, matrix: str = "bt709",
                         full_range: bool = False, bit_depth: int = 8) -> np.ndarray:
    """Raw yuv420p (8-bit) or yuv420p10le frame → uint8 RGB (H, W, 3); chroma upsampled bilinearly (centre sited)."""
    dtype = np.uint8 if bit_depth == 8 else np.dtype("<u2")
    planes = np.frombuffer(data, dtype=dtype).astype(np.float64) / (1 << (bit_depth - 8))
    ys = width * height
    cs = (width // 2) * (height // 2)
    y = planes[:ys].reshape(height, width)
    u = planes[ys:ys + cs].reshape(height // 2, width // 2)
    v = planes[ys + cs:ys + 2 * cs].reshape(height // 2, width // 2)
    up = [cv2.resize(c.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR) for c in (u, v)]
    return _to_uint8(yuv_to_rgb(np.stack([y, up[0], up[1]], axis=-1), matrix, full_range))


def yuv420_frame_bytes(width: int, height: int, bit_depth: int = 8) -> int:
    return (width * height + 2 * (width // 2) * (height // 2)) * (1 if bit_depth == 8 else 2)
