"""Finding the coding parameter that meets a byte budget: the one owner of genvc's rate searches.

- `first_true`: plain bisection over a monotone list of candidates (the keyframe's quality range, the sketch's
  resolution fill).
- `search_quality`: the bench's search on an integer CRF/QP, which first codes the worst quality (the floor, for
  its `reached` flag, shared across the targets of one clip).
- `search_around`: the sketch's QP search, which starts at a guess and searches both ways (no floor encode: each
  scale of the ladder starts from the previous scale's answer, so the guess is near).
- `step_to_fit`: one QP at a time from a start, for a final encode whose size is near the searched one.
- `finest_fitting`: the first of a short list of steps that fits (h's quantisation step).

The bracketing searches alternate interpolation in log(bytes) (size is close to exponential in CRF/QP, so this
usually lands within a step or two) with plain bisection (which bounds the worst case at log2 of the range). Two-pass
ABR is no use here: at 0.002–0.02 bpp encoders overshoot their bitrate target badly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np

T = TypeVar("T")

#: QP (or CRF) steps that halve a stream's size: the quantiser step of H.264/HEVC/VVC doubles every 6 QP, and at a
#: fixed resolution the bytes roughly follow 1/step (vvenc, bikes and carphone at 1/1-1/4 size, QP 30-50: 5-7).
#: The searches' first guess of the slope, and the encoder's allocation search's model of a clip's bytes.
QP_PER_HALVING = 6.0


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
            guess = hi - QP_PER_HALVING * math.log2(target / max(size(hi), 1)) - 1
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


def search_around(size_at: Callable[[int], int], budget: float, guess: int, q_range: range) -> tuple[int | None, int]:
    """(q, its size) of the smallest q in `q_range` whose size fits `budget`; (None, the size at the worst q) if
    even that overshoots. Sizes fall as q rises; `size_at` may return a huge size for a q it cannot code.
    Starts at `guess` and aims each next q at the budget along the size's slope in log(bytes) (measured from the
    two nearest q tried, QP_PER_HALVING before that), bisecting every other step once bracketed: 2-4 evaluations
    when the guess is near."""
    sizes: dict[int, int] = {}

    def size(q: int) -> int:
        if q not in sizes:
            sizes[q] = max(1, size_at(q))
        return sizes[q]

    def aim(q: int) -> float:  # the q where the size would meet the budget, seen from q
        others = [o for o in sizes if o != q]
        slope = QP_PER_HALVING
        if others:
            near = min(others, key=lambda o: abs(o - q))
            if size(near) != size(q):
                slope = max(1.0, min(20.0, (near - q) / np.log2(size(q) / size(near))))
        return q + slope * np.log2(size(q) / budget)

    lo = hi = None  # the largest q known to overshoot, the smallest known to fit
    q, step = min(max(guess, q_range[0]), q_range[-1]), 0
    while True:
        if size(q) <= budget:
            hi = q
        else:
            lo = q
        if hi is not None and (hi == q_range[0] or (lo is not None and hi - lo == 1)):
            return hi, size(hi)
        if hi is None:
            if lo == q_range[-1]:
                return None, size(lo)
            q = min(q_range[-1], max(lo + 1, int(np.ceil(aim(lo)))))
        elif lo is None:  # aim one step past the budget so the next evaluation brackets it
            q = max(q_range[0], min(hi - 1, int(np.floor(aim(hi))) - 1))
        else:
            q = int(round(aim(hi))) if step % 2 == 0 else (lo + hi) // 2
            q, step = min(max(q, lo + 1), hi - 1), step + 1


def step_to_fit(code_at: Callable[[int], T | None], budget: float, start: int, q_range: range,
                size_of: Callable[[T], int] = len) -> tuple[int, T] | None:
    """(q, code) nearest below `budget` from `start`: one q up while the code overshoots (or cannot be made: None),
    then one down while it still fits; None if nothing up to the worst q fits. For a final encode whose sizes are
    close to a searched encoder's: a few evaluations, measured rather than predicted."""
    best, q = None, max(q_range[0], start)
    while q <= q_range[-1]:
        code = code_at(q)
        if code is None or size_of(code) > budget:
            if best is not None:
                return best
            q += 1
            continue
        best = (q, code)
        if q == q_range[0]:
            return best
        q -= 1
    return best


def finest_fitting(count: int, code_at: Callable[[int], T], budget: float,
                   size_of: Callable[[T], int] = len) -> tuple[int, T]:
    """(index, code) of the first of `count` steps, finest first, whose code fits `budget`; the last (coarsest)
    where none does."""
    for index in range(count):
        code = code_at(index)
        if size_of(code) <= budget or index == count - 1:
            return index, code
    raise ValueError("no steps to try")
