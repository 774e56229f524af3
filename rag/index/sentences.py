"""Sentence vectors for the reader: one vector per quotable sentence of the passages, by text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

VECTORS = "sentences.npy"
KEYS = "sentences.json"


def sentence_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class SentenceVectors:
    """Vectors stored as float16 (half the memory; cosines agree to about 1e-3, which the reader's
    z-scored dense signal does not notice), looked up by the sentence's text."""

    def __init__(self, keys: Sequence[str], vectors: np.ndarray):
        self._rows = {k: i for i, k in enumerate(keys)}
        self._vectors = np.asarray(vectors, dtype=np.float16)

    @classmethod
    def build(cls, texts: Sequence[str], vectors: np.ndarray) -> SentenceVectors:
        return cls([sentence_key(t) for t in texts], vectors)

    @classmethod
    def load(cls, directory: Path) -> SentenceVectors | None:
        """The stored vectors, or None for an index built before the reader stored them."""
        if not (directory / VECTORS).is_file():
            return None
        keys = json.loads((directory / KEYS).read_text(encoding="utf-8"))
        return cls(keys, np.load(directory / VECTORS, mmap_mode="r"))

    def save(self, directory: Path) -> None:
        np.save(directory / VECTORS, self._vectors)
        keys = sorted(self._rows, key=self._rows.__getitem__)
        (directory / KEYS).write_text(json.dumps(keys), encoding="utf-8")

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, text: str) -> np.ndarray | None:
        row = self._rows.get(sentence_key(text))
        return None if row is None else np.asarray(self._vectors[row], dtype=np.float32)

    def by_key(self) -> dict[str, np.ndarray]:
        """All vectors by key (ingest reuses them for sentences that did not change)."""
        return {k: np.asarray(self._vectors[i], dtype=np.float32) for k, i in self._rows.items()}
