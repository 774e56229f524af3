"""FAISS behind a small interface: inner product over L2-normalized vectors, exact or HNSW."""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

FILE = "dense.faiss"
log = logging.getLogger(__name__)
# HNSW graph: neighbours per node and build-time beam (bench/scale.py measured recall and speed).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# Search-time beam: recall@10 against exact search grows with it, and so does the time.
HNSW_EF_SEARCH = 128


class DenseIndex:
    """Exact inner-product search (IndexFlatIP), or an HNSW graph for large indexes (``approximate_above``);
    rows are chunk positions in the document store."""

    def __init__(self, index: faiss.Index):
        self._index = index
        hnsw = getattr(index, "hnsw", None)
        if hnsw is not None:
            hnsw.efSearch = max(hnsw.efSearch, HNSW_EF_SEARCH)

    @classmethod
    def build(cls, vectors: np.ndarray, dim: int, approximate_above: int | None = None) -> DenseIndex:
        """Exact search up to ``approximate_above`` vectors, an HNSW graph above (None: always exact)."""
        index: faiss.Index
        if approximate_above is not None and len(vectors) > approximate_above:
            hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index = hnsw
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> DenseIndex:
        """Read the index; memory-mapped by default, so server workers share one copy of the vectors
        through the page cache instead of each holding its own."""
        path = str(directory / FILE)
        if mmap:
            try:
                return cls(faiss.read_index(path, faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY))
            except RuntimeError as exc:  # an index type FAISS cannot map: read it whole
                log.debug("cannot memory-map %s (%s): reading it", path, exc)
        return cls(faiss.read_index(path))

    def save(self, directory: Path) -> None:
        faiss.write_index(self._index, str(directory / FILE))

    @property
    def approximate(self) -> bool:
        return hasattr(self._index, "hnsw")

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
