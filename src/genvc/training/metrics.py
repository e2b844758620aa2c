"""The run's metrics log (JSON lines) and its loss-curve plot.

Each line is ``{"step": N, "split": "train"|"val", ...values}``. On resume, lines after the checkpoint's step
(written by the interrupted run after its last checkpoint) and any torn last line are dropped, so the log of a
resumed run equals that of an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from genvc.utils.atomic import atomic_path


class MetricsLog:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def records(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a kill
            if isinstance(record, dict) and "step" in record:
                out.append(record)
        return out

    def truncate_after(self, step: int) -> None:
        kept = [r for r in self.records() if r["step"] <= step]
        with atomic_path(self.path) as tmp:
            tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))

    def reset(self) -> None:
        if self.path.exists():
            self.path.unlink()

    def append(self, record: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def plot(self, png: str | os.PathLike) -> None:
        """Training losses (log scale, one line per term) and validation PSNR (and LPIPS) against step."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        records = self.records()
        train = [r for r in records if r.get("split") == "train"]
        val = [r for r in records if r.get("split") == "val" and "psnr" in r]
        keys = sorted({k for r in train for k in r} - {"step", "split", "lr", "grad_norm"})
        fig, (ax_loss, ax_psnr) = plt.subplots(1, 2, figsize=(11, 4))
        for key in keys:
            points = [(r["step"], r[key]) for r in train if isinstance(r.get(key), (int, float))]
            points = [(s, v) for s, v in points if math.isfinite(v) and v > 0]
            if points:
                ax_loss.plot(*zip(*points), label=key, linewidth=2 if key == "loss" else 1)
        ax_loss.set(xlabel="step", ylabel="training loss terms", yscale="log", title="training losses")
        if keys:
            ax_loss.legend(fontsize=8)
        if val:
            ax_psnr.plot([r["step"] for r in val], [r["psnr"] for r in val], marker="o")
        ax_psnr.set(xlabel="step", ylabel="PSNR (dB)", title="validation: PSNR and LPIPS")
        lpips = [(r["step"], r["lpips"]) for r in val if "lpips" in r]
        if lpips:  # the papers' metric, lower is better, on its own axis
            twin = ax_psnr.twinx()
            twin.plot(*zip(*lpips), marker="s", color="tab:red")
            twin.set_ylabel("LPIPS (AlexNet, lower is better)", color="tab:red")
        for ax in (ax_loss, ax_psnr):
            ax.grid(alpha=0.3)
        fig.subplots_adjust(left=0.07, right=0.93 if lpips else 0.98, bottom=0.13, top=0.92, wspace=0.3)  # tight_layout costs ~1 s
        with atomic_path(png) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)
