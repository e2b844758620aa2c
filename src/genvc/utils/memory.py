"""Keep frame-sized buffers out of the heap, so that memory stays flat over a long video."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
#: buffers at least this large are mmapped and go back to the OS when freed. glibc raises its threshold each time
#: a large mmapped block is freed, after which frames (500 KB at 640×272) come from the heap and fragment it:
#: measured on a 640×272 interp encode, peak RSS grew 669 → 715 MB from 150 to 600 frames with glibc's default,
#: 528 → 534 MB with this threshold.
MMAP_THRESHOLD = 128 << 10


@functools.lru_cache(maxsize=1)
def bound_heap() -> bool:
    """Fix glibc's mmap threshold for this process (a no-op elsewhere); True when it was set."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError, TypeError):  # not glibc
        return False
