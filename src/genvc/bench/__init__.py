"""genvc bench: classical baselines at matched rates, RD points, BD-rate, plots and an HTML report."""

from genvc.bench.baselines import BASELINES, Baseline, decode_stream, encode_frames
from genvc.bench.runner import Bench, BenchConfig

__all__ = ["BASELINES", "Baseline", "Bench", "BenchConfig", "encode_frames", "decode_stream"]
