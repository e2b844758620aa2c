"""All metrics of one decoded video against its original, in one flat dict. A metric whose weights or tool is
missing is None (shown as "n/a"), never 0."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from genvc.metrics.color import rgb_to_yuv
from genvc.metrics.psnr import psnr_rgb, psnr_yuv
from genvc.metrics.ssim import ms_ssim, ssim

METRICS = ("psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "psnr_rgb", "ssim_y", "msssim_y", "msssim_rgb",
           "vmaf", "lpips", "fvd")
# Lower is better for these; every other metric is higher-is-better.
LOWER_IS_BETTER = frozenset({"lpips", "fvd"})


@dataclass
class MetricConfig:
    matrix: str = "bt709"  # Y'CbCr matrix for the Y/U/V metrics (full range, as DCVC)
    vmaf: bool = True
    lpips: bool = True
    fvd: bool = True
    threads: int = 2


@functools.lru_cache(maxsize=1)
def _lpips_model():
    from genvc.metrics.lpips import load_lpips

    return load_lpips()


@functools.lru_cache(maxsize=1)
def _i3d_model():
    from genvc.metrics.fvd import load_i3d

    return load_i3d()


def compute_metrics(original: np.ndarray, decoded: np.ndarray, fps: Fraction = Fraction(25),
                    config: MetricConfig = MetricConfig()) -> dict[str, float | None]:
    if original.shape != decoded.shape:
        raise ValueError(f"decoded shape {decoded.shape} differs from the original {original.shape}")
    out: dict[str, float | None] = {f"psnr_{k}": v for k, v in psnr_yuv(original, decoded, config.matrix).items()}
    out["psnr_rgb"] = psnr_rgb(original, decoded)
    y_a = rgb_to_yuv(original, config.matrix)[..., 0]
    y_b = rgb_to_yuv(decoded, config.matrix)[..., 0]
    out["ssim_y"] = ssim(y_a, y_b)
    out["msssim_y"] = ms_ssim(y_a, y_b)
    out["msssim_rgb"] = ms_ssim(original, decoded)
    out["vmaf"] = None
    if config.vmaf:
        from genvc.metrics.vmaf import vmaf

        out["vmaf"] = vmaf(original, decoded, fps, threads=config.threads)
    out["lpips"] = None
    if config.lpips and _lpips_model() is not None:
        from genvc.metrics.lpips import lpips_distance

        out["lpips"] = lpips_distance(_lpips_model(), original, decoded)
    out["fvd"] = None
    if config.fvd and _i3d_model() is not None and len(original) >= 16:
        from genvc.metrics.fvd import fvd

        out["fvd"] = fvd(_i3d_model(), original, decoded)
    return {name: out[name] for name in METRICS}


def format_metric(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return "inf" if np.isinf(value) else f"{value:.{digits}f}"
