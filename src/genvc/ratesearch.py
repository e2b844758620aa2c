"""Finding the coding parameter that meets a byte budget: the one owner of genvc's rate searches.

`first_true` is the plain bisection over a monotone list of candidates (the keyframe's quality range, the sketch's
resolution fill). `search_quality` is the bench's search on an integer CRF/QP: a bracketing search on the integer parameter: `hi` always fits the budget, `lo` always overshoots. Steps
alternate between interpolation in log(bytes) (size is close to exponential in CRF/QP, so this usually lands
within a step or two) and plain bisection (which bounds the worst case at log2 of the range). Two-pass ABR is
no use here: at 0.002–0.02 bpp encoders overshoot their bitrate target badly. Sizes are cached per parameter,
so the searches for several targets on one clip share their encodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

def first_true(n: int, predicate: Callable[[int], bool]) -> int:
    """The smallest i in [0, n) with predicate(i), for a predicate false up to some index and true from there on;
    n when it is never true. Evaluates about log2(n) indices, each once."""
    lo, hi = 0, n - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if predicate(mid):
            hi = mid - 1
        else:
            lo = mid + 1
    return lo


# Initial guess for the slope when only one point is known: CRF/QP +6 roughly halves the size.
STEPS_PER_HALVING = 6.0


@dataclass
class SearchResult:
    q: int  # the best-quality parameter whose size fits (or q_max when nothing fits)
    size: int
    reached: bool  # False: even q_max overshoots, `size` is the codec's floor
    trace: list[tuple[int, int]]  # (q, size) evaluated for this target, in order


def search_quality(size_at: Callable[[int], int], target: float, q_min: int, q_max: int,
                   cache: dict[int, int] | None = None) -> SearchResult:
    """Smallest q in [q_min, q_max] with size_at(q) <= target, assuming size falls as q rises."""
    cache = {} if cache is None else cache
    trace: list[tuple[int, int]] = []

    def size(q: int) -> int:
        if q not in cache:
            cache[q] = size_at(q)
            trace.append((q, cache[q]))
        return cache[q]

    fitting = [q for q, s in cache.items() if s <= target and q_min <= q <= q_max]
    hi = min(fitting) if fitting else q_max
    if size(hi) > target:
        return SearchResult(hi, size(hi), False, trace)
    over = [q for q, s in cache.items() if s > target and q_min <= q < hi]
    lo = max(over) if over else None  # None: nothing known to overshoot yet, q_min - 1 stands in
    step = 0
    while hi - (q_min - 1 if lo is None else lo) > 1:
        floor_q = q_min - 1 if lo is None else lo
        if lo is None:
            # Extrapolate downwards from hi with the typical slope.
            guess = hi - STEPS_PER_HALVING * math.log2(target / max(size(hi), 1)) - 1
        elif step % 2 == 0:
            fraction = (math.log(size(lo)) - math.log(target)) / (math.log(size(lo)) - math.log(max(size(hi), 1)))
            guess = lo + fraction * (hi - lo)
        else:
            guess = (lo + hi) / 2
        q = min(max(int(round(guess)), floor_q + 1), hi - 1)
        if size(q) <= target:
            hi = q
        else:
            lo = q
        step += 1
    return SearchResult(hi, size(hi), True, trace)
