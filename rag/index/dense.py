"""FAISS behind a small interface: inner product over L2-normalized vectors, exact or an inverted file (IVF)."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import faiss
import numpy as np

FILE = "dense.faiss"
log = logging.getLogger(__name__)
# Inverted file above the exact threshold (bench/scale.py chose it over HNSW by measurement: at 100k
# synthetic chunks HNSW M 32 / efConstruction 80 took 563 s to build, IVF a fraction of that).
# Lists: IVF_LISTS_PER_SQRT × sqrt(n); k-means trains on at most IVF_TRAIN_PER_LIST vectors per list.
IVF_LISTS_PER_SQRT = 4
IVF_TRAIN_PER_LIST = 30
IVF_TRAIN_ITERATIONS = 10
# Lists scanned per query: recall@10 against exact search grows with it, and so does the time.
IVF_NPROBE = 128
# Search beam of HNSW indexes built by earlier versions (they are read, no longer built).
HNSW_EF_SEARCH = 128
# Rows added to FAISS at a time (the build reads the vectors from a memory-mapped file).
ADD_BATCH = 50_000


def ivf_lists(n: int) -> int:
    return max(1, min(n, int(IVF_LISTS_PER_SQRT * math.sqrt(n))))


class DenseIndex:
    """Exact inner-product search (IndexFlatIP), or an inverted file of exact vectors (IndexIVFFlat)
    for large indexes (``approximate_above``); rows are chunk positions in the document store."""

    def __init__(self, index: faiss.Index):
        self._index = index
        ivf = self._ivf()
        if ivf is not None:  # this code's measured choice, whatever the file was built with
            ivf.nprobe = min(ivf.nlist, IVF_NPROBE)
        hnsw = getattr(index, "hnsw", None)
        if hnsw is not None:  # an index built before IVF (HNSW above the threshold) until the next ingest
            hnsw.efSearch = max(hnsw.efSearch, HNSW_EF_SEARCH)

    def _ivf(self) -> faiss.IndexIVF | None:
        try:
            return faiss.extract_index_ivf(self._index)
        except RuntimeError:
            return None

    @classmethod
    def build(cls, vectors: np.ndarray, dim: int, approximate_above: int | None = None) -> DenseIndex:
        """Exact search up to ``approximate_above`` vectors, an IVF index above (None: always exact).

        ``vectors`` may be a memory-mapped array: it is read in batches."""
        n = len(vectors)
        index: faiss.Index
        if approximate_above is not None and n > approximate_above:
            nlist = ivf_lists(n)
            quantizer = faiss.IndexFlatIP(dim)
            ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.cp.spherical = True  # centroids on the unit sphere, like the vectors
            ivf.cp.min_points_per_centroid = 1
            ivf.cp.niter = IVF_TRAIN_ITERATIONS
            sample = np.sort(np.random.default_rng(0).choice(n, min(n, IVF_TRAIN_PER_LIST * nlist), replace=False))
            ivf.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
            ivf.nprobe = min(nlist, IVF_NPROBE)
            index = ivf
        else:
            index = faiss.IndexFlatIP(dim)
        for start in range(0, n, ADD_BATCH):
            index.add(np.ascontiguousarray(vectors[start:start + ADD_BATCH], dtype=np.float32))
        if isinstance(index, faiss.IndexIVF):
            index.make_direct_map()  # rows → stored vectors (reused by the next ingest)
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
        return self._ivf() is not None or hasattr(self._index, "hnsw")

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
