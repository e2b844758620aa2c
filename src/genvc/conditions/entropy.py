"""Exact rANS coding of quantized integers with a Laplace model around a prediction (constriction's AnsCoder).

Each payload codes its integers as a sequence of chunks. A chunk is (symbols, predictions, group, range):
symbol ~ QuantizedLaplace(mean=prediction, scale=scale[group]) truncated to [low, high]; the quantized model is
leaky, so every symbol in range stays codable. The encoder picks one scale per group (the Laplace maximum
likelihood estimate, mean |symbol − prediction|), stores it as one byte, and codes the chunks in reverse
(ANS is a stack); the decoder reads the scale bytes and then the chunks forward, so predictions may depend on
anything decoded before.
"""

from __future__ import annotations

import math

import constriction
import numpy as np

from genvc.errors import FormatError

MIN_SCALE = 0.05


def scale_to_code(scale: float) -> int:
    return int(np.clip(round(8 * math.log2(max(scale, MIN_SCALE) / MIN_SCALE)), 0, 255))


def code_to_scale(code: int) -> float:
    return MIN_SCALE * 2.0 ** (code / 8)


class LaplaceEncoder:
    def __init__(self, groups: int) -> None:
        self.groups = groups
        self._chunks: list[tuple[np.ndarray, np.ndarray, int, int, int]] = []

    def add(self, symbols, predictions, group: int, low: int, high: int) -> None:
        symbols = np.asarray(symbols, dtype=np.int32).ravel()
        predictions = _per_symbol(predictions, symbols.size)
        if symbols.size and (symbols.min() < low or symbols.max() > high):
            raise ValueError(f"symbols outside [{low}, {high}]")
        if symbols.size:
            self._chunks.append((symbols, predictions, group, low, high))

    def finish(self) -> bytes:
        """Scale bytes (one per group) followed by the rANS words."""
        codes = []
        for group in range(self.groups):
            residuals = [np.abs(s - p) for s, p, g, _, _ in self._chunks if g == group]
            mean_abs = float(np.concatenate(residuals).mean()) if residuals else 1.0
            codes.append(scale_to_code(mean_abs))
        coder = constriction.stream.stack.AnsCoder()
        for symbols, predictions, group, low, high in reversed(self._chunks):
            model = constriction.stream.model.QuantizedLaplace(low, high)
            scales = np.full(symbols.shape, code_to_scale(codes[group]))
            coder.encode_reverse(symbols, model, predictions, scales)
        return bytes(codes) + coder.get_compressed().astype("<u4").tobytes()


class LaplaceDecoder:
    def __init__(self, data: bytes, groups: int, what: str) -> None:
        self._what = what
        if len(data) < groups or (len(data) - groups) % 4:
            raise FormatError(f"{what} payload: entropy-coded part has a bad length {len(data)}")
        self._scales = [code_to_scale(c) for c in data[:groups]]
        words = np.frombuffer(data[groups:], dtype="<u4").astype(np.uint32)
        try:
            self._coder = constriction.stream.stack.AnsCoder(words)
        except ValueError as exc:
            raise FormatError(f"{what} payload: {exc}") from None

    def read(self, count: int, predictions, group: int, low: int, high: int) -> np.ndarray:
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        predictions = _per_symbol(predictions, count)
        model = constriction.stream.model.QuantizedLaplace(low, high)
        scales = np.full(count, self._scales[group])
        try:
            return self._coder.decode(model, predictions, scales).astype(np.int64)
        except (ValueError, RuntimeError) as exc:
            raise FormatError(f"{self._what} payload: {exc}") from None

    def finish(self) -> None:
        if not self._coder.is_empty():
            raise FormatError(f"{self._what} payload: entropy-coded data has unread words")


def _per_symbol(predictions, count: int) -> np.ndarray:
    """One float64 prediction per symbol, from a scalar or an array of `count` values of any shape."""
    predictions = np.asarray(predictions, dtype=np.float64)
    if predictions.size == 1:
        return np.full(count, float(predictions.ravel()[0]))
    if predictions.size != count:
        raise ValueError(f"{predictions.size} predictions for {count} symbols")
    return np.ascontiguousarray(predictions.ravel())
