"""What this CPU runs natively."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU has native bf16 convolutions (AVX-512 BF16 or AMX, through oneDNN). Where it does, bf16 was
    2-4× faster than float32 on 2 cores (AMD EPYC with AVX-512 BF16); where it does not, bf16 is emulated and
    slower than float32 (a restorer training step: 12.8 s against 2 s on an AMD EPYC without AVX-512)."""
    import torch

    return torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
