"""FAISS behind a small interface: inner product over L2-normalized vectors."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

FILE = "dense.faiss"


class DenseIndex:
    """Exact inner-product search (IndexFlatIP); rows are chunk positions in the document store."""

    def __init__(self, index: faiss.Index):
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray, dim: int) -> DenseIndex:
        index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, directory: Path) -> DenseIndex:
        return cls(faiss.read_index(str(directory / FILE)))

    def save(self, directory: Path) -> None:
        faiss.write_index(self._index, str(directory / FILE))

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def count(self) -> int:
        return int(self._index.ntotal)

    def vectors(self) -> np.ndarray:
        """All stored vectors, row-aligned with the document store (used to reuse embeddings)."""
        n = self.count()
        return self._index.reconstruct_n(0, n) if n else np.zeros((0, self.dim), np.float32)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows by cosine similarity: ``(scores, rows)``; rows are -1 where fewer exist."""
        k = max(1, min(k, self.count()))
        scores, rows = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return scores[0], rows[0]
