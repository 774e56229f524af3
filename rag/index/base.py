"""The index interface: what ingest writes through and retrieval reads through, whatever the backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

# The two lexical sides of hybrid retrieval: jieba words and CJK character bigrams.
LEXICAL_FIELDS = ("words", "bigrams")


class Ranked(NamedTuple):
    """Rows of the document store (chunk positions) and their scores, best first."""

    rows: np.ndarray
    scores: np.ndarray


EMPTY = Ranked(np.zeros(0, np.int64), np.zeros(0, np.float32))


class SearchIndex(Protocol):
    """The search structures of one index version; rows are positions in its chunk list.

    Fusion, the relevance floor, diversity and the reader stay above this in ``rag.retrieve``.
    """

    kind: str

    def count(self) -> int:
        """Chunks that can be found."""
        ...

    def dense(self, vector: np.ndarray, k: int) -> Ranked:
        """Top ``k`` rows by inner product with an L2-normalised query vector."""
        ...

    def lexical(self, field: str, text: str, k: int) -> Ranked:
        """Top ``k`` rows by BM25 on ``field`` (``words`` or ``bigrams``); rows scoring 0 are left out."""
        ...

    def idf(self, token: str) -> float:
        """IDF of a CJK bigram in this version (the coverage of a question, the reader's weights)."""
        ...

    def delete_article(self, article_id: str) -> int:
        """Remove an article's chunks from search at once; returns how many rows were removed."""
        ...


class IndexBuilder(Protocol):
    """Writes the search structures of a new version; nothing is visible before the version is published."""

    def add(self, start: int, article_ids: Sequence[str], vectors: np.ndarray, lexical: Sequence[str]) -> None:
        """Append rows ``start .. start + len(article_ids) - 1`` (in row order)."""
        ...

    def finish(self, directory: Path) -> dict:
        """Complete the build, write any local files into the version's ``directory``; returns the
        manifest's ``backend`` entry."""
        ...

    def abort(self) -> None:
        """Drop whatever the build wrote outside the version directory."""
        ...
