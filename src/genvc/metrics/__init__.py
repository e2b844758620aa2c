"""Quality metrics of decoded vs original uint8 RGB frames (T, H, W, 3): PSNR (RGB, Y/U/V, DCVC's (6Y+U+V)/8),
SSIM, MS-SSIM, VMAF (libvmaf via ffmpeg), LPIPS (AlexNet, VGG) and DISTS (weights from pinned pip packages), FVD
(when its I3D weights are on disk)."""

from genvc.metrics.psnr import psnr_rgb, psnr_yuv
from genvc.metrics.ssim import ms_ssim, ssim
from genvc.metrics.suite import (LABELS, LOWER_IS_BETTER, METRICS, PERCEPTUAL, MetricConfig, compute_metrics,
                                 format_metric)

__all__ = ["psnr_rgb", "psnr_yuv", "ssim", "ms_ssim", "compute_metrics", "MetricConfig", "METRICS",
           "LABELS", "LOWER_IS_BETTER", "PERCEPTUAL", "format_metric"]
