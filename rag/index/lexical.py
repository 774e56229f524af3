"""BM25 (bm25s) over two Chinese tokenizations: jieba words and CJK character bigrams."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from rag.text import cjk_bigrams, words

TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"words": words, "bigrams": cjk_bigrams}
logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """One BM25 index; ``name`` selects the tokenizer used for both documents and queries."""

    def __init__(self, name: str, retriever: bm25s.BM25, n_docs: int):
        self.name = name
        self._tokenize = TOKENIZERS[name]
        self._bm25 = retriever
        self._n = n_docs
        vocab = retriever.vocab_dict or {}
        df = np.diff(np.asarray(retriever.scores["indptr"])) if n_docs else np.zeros(0)
        # Inverse document frequency per token, for query-term weighting (relevance floor).
        self._idf = {tok: float(np.log(1 + (n_docs - df[i] + 0.5) / (df[i] + 0.5))) for tok, i in vocab.items()
                     if i < len(df)}

    @classmethod
    def build(cls, name: str, texts: Sequence[str]) -> LexicalIndex:
        tokenize = TOKENIZERS[name]
        retriever = bm25s.BM25()
        retriever.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(name, retriever, len(texts))

    @classmethod
    def load(cls, directory: Path, name: str, mmap: bool = True) -> LexicalIndex:
        """Read the index; its score matrix memory-mapped by default (workers share the page cache)."""
        retriever = bm25s.BM25.load(str(directory / f"bm25_{name}"), mmap=mmap, show_progress=False)
        return cls(name, retriever, int(retriever.scores["num_docs"]))

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory / f"bm25_{self.name}"), show_progress=False)

    def tokenize(self, text: str) -> list[str]:
        return self._tokenize(text)

    def idf(self, token: str) -> float:
        """IDF of a token in this index; unseen tokens get the maximum (they are rare by definition)."""
        return self._idf.get(token, float(np.log(1 + (self._n + 0.5) / 0.5)))

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens (zeros when none is known)."""
        known = [t for t in tokens if t in (self._bm25.vocab_dict or {})]
        if not known or not self._n:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
