"""The content key under which the encoder remembers a coded stream or a judged score."""

from __future__ import annotations

import hashlib

import numpy as np


def content_key(settings: tuple, *arrays: np.ndarray) -> bytes:
    """A 16-byte digest of `settings` and the exact contents of `arrays` (hashed in place, not copied): the key
    under which the encoder remembers a stream or a judged score."""
    digest = hashlib.blake2b(repr(settings).encode(), digest_size=16)
    for array in arrays:
        digest.update(np.ascontiguousarray(array).data)
    return digest.digest()
