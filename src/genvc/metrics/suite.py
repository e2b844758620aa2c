"""All metrics of one decoded video against its original, in one flat dict. FVD without its I3D weights and VMAF
where it is switched off are None (shown as "n/a"), never 0. The perceptual metrics (LPIPS on AlexNet and VGG, DISTS)
come from pinned pip packages: without them `compute_metrics` raises ModelError naming the package."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from genvc.metrics.color import rgb_to_yuv
from genvc.metrics.psnr import frame_mse, psnr_from_mse
from genvc.metrics.ssim import ms_ssim_per_frame, ssim_per_frame

# MS-SSIM on RGB (`ms_ssim(rgb_a, rgb_b)`) is left out of the bench: it triples the metric time at 720p.
METRICS = ("psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "psnr_rgb", "ssim_y", "msssim_y", "vmaf", "vmaf_neg", "lpips",
           "lpips_vgg", "dists", "fvd")
# Lower is better for these; every other metric is higher-is-better.
LOWER_IS_BETTER = frozenset({"lpips", "lpips_vgg", "dists", "fvd"})
#: the papers' per-frame perceptual metrics (values in [0, 1], shown with 4 digits)
PERCEPTUAL = ("lpips", "lpips_vgg", "dists")
#: how tables and plots name them
LABELS = {"psnr_y": "PSNR-Y (dB)", "psnr_yuv": "PSNR-YUV (6Y+U+V)/8 (dB)", "psnr_rgb": "PSNR-RGB (dB)",
          "msssim_y": "MS-SSIM (Y)", "ssim_y": "SSIM (Y)", "msssim_rgb": "MS-SSIM (RGB)", "vmaf": "VMAF",
          "vmaf_neg": "VMAF NEG", "lpips": "LPIPS (lower is better)",
          "lpips_vgg": "LPIPS-VGG (lower is better)", "dists": "DISTS (lower is better)", "fvd": "FVD (lower is better)"}
CHUNK_FRAMES = 4  # frames converted to float at a time (a 720p frame is 22 MB in float64 RGB)


@dataclass
class MetricConfig:
    matrix: str = "bt709"  # Y'CbCr matrix for the Y/U/V metrics (full range, as DCVC)
    vmaf: bool = True
    lpips: bool = True  # LPIPS (AlexNet) on every frame, LPIPS-VGG and DISTS on `vgg_frames` of them
    #: frames (evenly spaced) the VGG16 metrics see: VGG costs ~20× AlexNet per pixel (a 720p frame pair ≈ 0.6 TFLOP)
    vgg_frames: int = 9
    fvd: bool = True
    threads: int = 2


@functools.lru_cache(maxsize=1)
def _i3d_model():
    from genvc.metrics.fvd import load_i3d

    return load_i3d()


def _pixel_metrics(original: np.ndarray, decoded: np.ndarray, matrix: str) -> dict[str, float]:
    """PSNR/SSIM/MS-SSIM from per-frame values gathered a few frames at a time."""
    per_frame: dict[str, list[np.ndarray]] = {k: [] for k in ("y", "u", "v", "rgb", "ssim_y", "msssim_y")}
    for i in range(0, len(original), CHUNK_FRAMES):
        a, b = original[i:i + CHUNK_FRAMES], decoded[i:i + CHUNK_FRAMES]
        ya, yb = rgb_to_yuv(a, matrix), rgb_to_yuv(b, matrix)
        for c, name in enumerate(("y", "u", "v")):
            per_frame[name].append(frame_mse(ya[..., c], yb[..., c]))
        per_frame["rgb"].append(frame_mse(a, b))
        per_frame["ssim_y"].append(ssim_per_frame(ya[..., 0], yb[..., 0]))
        per_frame["msssim_y"].append(ms_ssim_per_frame(ya[..., 0], yb[..., 0]))
    values = {k: np.concatenate(v) for k, v in per_frame.items()}
    out = {f"psnr_{c}": psnr_from_mse(values[c]) for c in ("y", "u", "v", "rgb")}
    out["psnr_yuv"] = (6.0 * out["psnr_y"] + out["psnr_u"] + out["psnr_v"]) / 8.0
    out.update({k: float(values[k].mean()) for k in ("ssim_y", "msssim_y")})
    return out


def compute_metrics(original: np.ndarray, decoded: np.ndarray, fps: Fraction = Fraction(25),
                    config: MetricConfig = MetricConfig()) -> dict[str, float | None]:
    if original.shape != decoded.shape:
        raise ValueError(f"decoded shape {decoded.shape} differs from the original {original.shape}")
    out: dict[str, float | None] = _pixel_metrics(original, decoded, config.matrix)
    out["vmaf"] = out["vmaf_neg"] = None
    if config.vmaf:
        from genvc.metrics.vmaf import VMAF_NEG, vmaf

        out["vmaf"] = vmaf(original, decoded, fps, threads=config.threads)
        # without the credit VMAF gives to sharpening: a learned restorer's gain that survives it is not that alone
        out["vmaf_neg"] = vmaf(original, decoded, fps, threads=config.threads, model=VMAF_NEG)
    out["lpips"] = out["lpips_vgg"] = out["dists"] = None
    if config.lpips:
        out.update(perceptual_metrics(original, decoded, config.vgg_frames))
    out["fvd"] = None
    if config.fvd and _i3d_model() is not None and len(original) >= 16:
        from genvc.metrics.fvd import fvd

        out["fvd"] = fvd(_i3d_model(), original, decoded)
    return {name: out[name] for name in METRICS}


def vgg_sample(num_frames: int, count: int) -> np.ndarray:
    """`count` evenly spaced frame indices (all frames of a shorter video), first and last included."""
    return np.unique(np.linspace(0, num_frames - 1, min(num_frames, max(1, count))).round().astype(int))


def load_perceptual() -> None:
    """Loads (and caches) every perceptual metric's network: a ModelError naming the package when one is missing."""
    from genvc.metrics.dists import load_dists
    from genvc.metrics.lpips import load_lpips

    load_lpips("alex"), load_lpips("vgg"), load_dists()


def perceptual_metrics(original: np.ndarray, decoded: np.ndarray, vgg_frames: int = 9) -> dict[str, float | None]:
    """LPIPS (AlexNet, every frame), LPIPS-VGG and DISTS (on `vgg_sample` frames): the papers' metrics; all None
    (n/a) on frames too small for AlexNet."""
    from genvc.metrics.dists import dists_per_frame, load_dists
    from genvc.metrics.lpips import MIN_SIDE, load_lpips, lpips_per_frame

    if min(original.shape[1:3]) < MIN_SIDE:
        return {"lpips": None, "lpips_vgg": None, "dists": None}

    sample = vgg_sample(len(original), vgg_frames)
    return {"lpips": float(lpips_per_frame(load_lpips("alex"), original, decoded).mean()),
            "lpips_vgg": float(lpips_per_frame(load_lpips("vgg"), original[sample], decoded[sample]).mean()),
            "dists": float(dists_per_frame(load_dists(), original[sample], decoded[sample]).mean())}


def format_metric(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return "inf" if np.isinf(value) else f"{value:.{digits}f}"
