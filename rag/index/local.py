"""The local backend: FAISS for dense search and two bm25s indexes, as files in the version directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.index.base import EMPTY, Ranked
from rag.index.dense import DenseIndex
from rag.index.lexical import LexicalIndex


class LocalSearch:
    """FAISS + BM25 (words, bigrams) of one version, loaded in this process."""

    kind = "local"

    def __init__(self, dense: DenseIndex, words: LexicalIndex, bigrams: LexicalIndex,
                 article_ids: Sequence[str] = ()):
        self.dense_index = dense
        self.lexical_indexes = {"words": words, "bigrams": bigrams}
        self._article_ids = list(article_ids)
        self._hidden: set[int] = set()  # rows of deleted articles (the next ingest leaves them out)

    @classmethod
    def load(cls, directory: Path, article_ids: Sequence[str] = ()) -> LocalSearch:
        return cls(DenseIndex.load(directory), LexicalIndex.load(directory, "words"),
                   LexicalIndex.load(directory, "bigrams"), article_ids)

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
        scores = lex.scores(lex.tokenize(text))
        n = len(scores)
        if not n:
            return EMPTY
        if self._hidden:
            scores[list(self._hidden)] = 0.0
        k = min(k, n)
        top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return Ranked(top, scores[top])

    def idf(self, token: str) -> float:
        return self.lexical_indexes["bigrams"].idf(token)

    def delete_article(self, article_id: str) -> int:
        rows = {i for i, a in enumerate(self._article_ids) if a == article_id} - self._hidden
        self._hidden |= rows
        return len(rows)


class LocalBuilder:
    """Collects the rows, then builds FAISS and both BM25 indexes into the version directory."""

    def __init__(self, dim: int, approximate_above: int | None = None):
        self.dim = dim
        self.approximate_above = approximate_above
        self._vectors: list[np.ndarray] = []
        self._lexical: list[str] = []

    def add(self, start: int, article_ids: Sequence[str], vectors: np.ndarray, lexical: Sequence[str]) -> None:
        if start != len(self._lexical):
            raise ValueError(f"rows must be added in order: expected {len(self._lexical)}, got {start}")
        self._vectors.append(np.asarray(vectors, np.float32).reshape(len(lexical), self.dim))
        self._lexical.extend(lexical)

    def finish(self, directory: Path) -> dict:
        vectors = np.vstack(self._vectors) if self._vectors else np.zeros((0, self.dim), np.float32)
        DenseIndex.build(vectors, self.dim, self.approximate_above).save(directory)
        for name in ("words", "bigrams"):
            LexicalIndex.build(name, self._lexical).save(directory)
        return {"kind": "local"}

    def abort(self) -> None:
        """Nothing lives outside the version directory."""
