"""The local backend: FAISS for dense search and two bm25s indexes, as files in the version directory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.index.base import EMPTY, LEXICAL_FIELDS, Ranked
from rag.index.dense import DenseIndex
from rag.index.lexical import LexicalBuilder, LexicalIndex


class LocalSearch:
    """FAISS + BM25 (words, bigrams) of one version, loaded in this process."""

    kind = "local"

    def __init__(self, dense: DenseIndex, words: LexicalIndex, bigrams: LexicalIndex,
                 rows_of: Callable[[str], Sequence[int]] | None = None):
        self.dense_index = dense
        self.lexical_indexes = {"words": words, "bigrams": bigrams}
        self._rows_of = rows_of  # an article's rows (the document store's lookup; None: nothing to delete)
        self._hidden: set[int] = set()  # rows of deleted articles (the next ingest leaves them out)

    @classmethod
    def load(cls, directory: Path, rows_of: Callable[[str], Sequence[int]] | None = None) -> LocalSearch:
        return cls(DenseIndex.load(directory), LexicalIndex.load(directory, "words"),
                   LexicalIndex.load(directory, "bigrams"), rows_of)

    def count(self) -> int:
        return self.dense_index.count() - len(self._hidden)

    def dense(self, vector: np.ndarray, k: int) -> Ranked:
        if not self.dense_index.count():
            return EMPTY
        scores, rows = self.dense_index.search(vector, k + len(self._hidden))
        keep = rows >= 0
        if self._hidden:
            keep &= ~np.isin(rows, list(self._hidden))
        return Ranked(rows[keep][:k], scores[keep][:k])

    def lexical(self, field: str, text: str, k: int) -> Ranked:
        lex = self.lexical_indexes[field]
        rows, scores = lex.top(lex.tokenize(text), k, sorted(self._hidden))
        return Ranked(rows, scores) if len(rows) else EMPTY

    def idf(self, token: str) -> float:
        return self.lexical_indexes["bigrams"].idf(token)

    def delete_article(self, article_id: str) -> int:
        rows = set(self._rows_of(article_id) if self._rows_of is not None else ()) - self._hidden
        self._hidden |= rows
        return len(rows)


class LocalBuilder:
    """Streams the rows to scratch files (vectors, BM25 postings), then builds FAISS and both BM25
    indexes into the version directory: memory holds one batch, not the corpus, until ``finish``.

    Above ``approximate_above`` rows the dense index is an IVF and the BM25 indexes keep champion lists."""

    def __init__(self, dim: int, approximate_above: int | None = None, scratch: Path | None = None):
        self.dim = dim
        self.approximate_above = approximate_above
        if scratch is not None:
            scratch.mkdir(parents=True, exist_ok=True)
        self._dir = Path(tempfile.mkdtemp(prefix=".tmp-build-", dir=scratch))
        self._vectors = open(self._dir / "vectors.f32", "wb")  # noqa: SIM115
        self._lexical = {name: LexicalBuilder(name, self._dir) for name in LEXICAL_FIELDS}
        self._n = 0

    def add(self, start: int, article_ids: Sequence[str], vectors: np.ndarray, lexical: Sequence[str]) -> None:
        if start != self._n:
            raise ValueError(f"rows must be added in order: expected {self._n}, got {start}")
        np.ascontiguousarray(vectors, np.float32).reshape(len(lexical), self.dim).tofile(self._vectors)
        for builder in self._lexical.values():
            builder.add(lexical)
        self._n += len(lexical)

    def finish(self, directory: Path) -> dict:
        self._vectors.close()
        n = self._n
        approximate = self.approximate_above is not None and n > self.approximate_above
        vectors = (np.memmap(self._dir / "vectors.f32", np.float32, "r", shape=(n, self.dim)) if n
                   else np.zeros((0, self.dim), np.float32))
        DenseIndex.build(vectors, self.dim, self.approximate_above).save(directory)
        del vectors
        for builder in self._lexical.values():
            builder.finish(champions=approximate).save(directory)
        self._cleanup()
        return {"kind": "local"}

    def abort(self) -> None:
        """Remove the scratch files (nothing else lives outside the version directory)."""
        self._cleanup()

    def _cleanup(self) -> None:
        self._vectors.close()
        for builder in self._lexical.values():
            builder.abort()
        shutil.rmtree(self._dir, ignore_errors=True)
