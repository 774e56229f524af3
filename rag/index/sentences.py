"""Sentence vectors for the reader: one vector per quotable sentence of the passages, by text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

VECTORS = "sentences.npy"
KEYS = "sentences.keys.npy"  # the sentences' keys, sorted; row i of VECTORS is key i's vector
OLD_KEYS = "sentences.json"  # before index format 2: the keys in row order (read to reuse the vectors)
_KEY = "S20"


def sentence_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class SentenceVectors:
    """Vectors stored as float16 (half the memory; cosines agree to about 1e-3, which the reader's
    z-scored dense signal does not notice), looked up by the sentence's text.

    Keys and vectors are sorted by key and memory-mapped once saved: a lookup is a binary search,
    and the server's workers share both files through the page cache (no per-process dictionary).
    """

    def __init__(self, keys: Sequence[str] | np.ndarray, vectors: np.ndarray, sorted_keys: bool = False):
        keys = np.asarray(keys, dtype=_KEY)
        if sorted_keys:
            self._keys, self._vectors = keys, vectors
        else:
            order = np.argsort(keys, kind="stable")
            self._keys = keys[order]
            self._vectors = np.asarray(vectors, dtype=np.float16)[order]

    @classmethod
    def build(cls, texts: Sequence[str], vectors: np.ndarray) -> SentenceVectors:
        return cls([sentence_key(t) for t in texts], vectors)

    @classmethod
    def load(cls, directory: Path) -> SentenceVectors | None:
        """The stored vectors, or None for an index built before the reader stored them."""
        if not (directory / VECTORS).is_file():
            return None
        # Plain arrays over the mapped files: numpy.memmap's own indexing costs a Python call per
        # lookup (about 10 % of a loaded server's time in its __getitem__ and __array_finalize__).
        vectors = np.asarray(np.load(directory / VECTORS, mmap_mode="r"))
        if not (directory / KEYS).is_file():  # an older version: keys as JSON, in row order
            return cls(json.loads((directory / OLD_KEYS).read_text(encoding="utf-8")), vectors)
        return cls(np.asarray(np.load(directory / KEYS, mmap_mode="r")), vectors, sorted_keys=True)

    def save(self, directory: Path) -> None:
        np.save(directory / VECTORS, np.asarray(self._vectors, dtype=np.float16))
        np.save(directory / KEYS, self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def _row(self, key: str) -> int | None:
        k = key.encode("ascii")
        i = int(self._keys.searchsorted(k))
        return i if i < len(self._keys) and self._keys[i] == k else None

    def get(self, text: str) -> np.ndarray | None:
        row = self._row(sentence_key(text))
        return None if row is None else np.asarray(self._vectors[row], dtype=np.float32)

    def by_key(self) -> dict[str, np.ndarray]:
        """All vectors by key (ingest reuses them for sentences that did not change)."""
        return {k.decode("ascii"): np.asarray(self._vectors[i], dtype=np.float32) for i, k in enumerate(self._keys)}
