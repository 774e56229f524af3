"""BM25 over two Chinese tokenizations: jieba words and CJK character bigrams.

Built by a streaming builder (postings spilled to disk batch by batch, scored at the end with
bm25s's Lucene formula) and stored in bm25s's files, read memory-mapped. Above the exact threshold
each frequent term also stores its highest-impact postings first ("champion lists"), and a query
accumulates those instead of every posting of the term: the top candidates without scoring every
document that shares a common word with the question.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from rag.text import cjk_bigrams, words

TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"words": words, "bigrams": cjk_bigrams}
logging.getLogger("bm25s").setLevel(logging.WARNING)
# bm25s's defaults (method "lucene"), which every index so far was built with.
K1, B = 1.5, 0.75
# Above the exact threshold: a term in more than CHAMPIONS documents keeps its CHAMPIONS highest-scoring
# postings, and a query reads at most TOP_POSTINGS of them per term (bench/scale.py measured recall
# against exact BM25 and time).
CHAMPIONS = 8000
TOP_POSTINGS = 8000
# A question whose terms have at most this many postings in all is scored exactly even then (reading
# them all costs less than the champion lists' bookkeeping: bench/scale.py, 100k vs 1M chunks).
EXACT_POSTINGS = 2_000_000
# Candidates given their exact score after the champion lists (by upper bound).
RESCORE = 2000
CHAMPION_FILES = ("champion_terms.npy", "champion_rows.npy", "champion_scores.npy")
# Postings scored at once in ``finish`` (bounds the float64 temporaries).
SCORE_BATCH = 8_000_000


class LexicalIndex:
    """One BM25 index; ``name`` selects the tokenizer used for both documents and queries."""

    def __init__(self, name: str, retriever: bm25s.BM25, n_docs: int,
                 champions: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None):
        self.name = name
        self._tokenize = TOKENIZERS[name]
        self._bm25 = retriever
        self._n = n_docs
        self._vocab: dict[str, int] = retriever.vocab_dict or {}
        self._indptr = np.asarray(retriever.scores["indptr"]) if n_docs else np.zeros(1, np.int64)
        df = np.diff(self._indptr)
        # Inverse document frequency per token, for query-term weighting (relevance floor).
        self._idf = {tok: float(np.log(1 + (n_docs - df[i] + 0.5) / (df[i] + 0.5))) for tok, i in self._vocab.items()
                     if i < len(df)}
        self._champions = champions
        self._champion_of = ({int(t): j for j, t in enumerate(champions[0])} if champions is not None else {})

    @classmethod
    def build(cls, name: str, texts: Sequence[str], champions: bool = False) -> LexicalIndex:
        builder = LexicalBuilder(name)
        try:
            builder.add(texts)
            return builder.finish(champions)
        finally:
            builder.abort()

    @classmethod
    def load(cls, directory: Path, name: str, mmap: bool = True) -> LexicalIndex:
        """Read the index; its score matrix memory-mapped by default (workers share the page cache)."""
        folder = directory / f"bm25_{name}"
        retriever = bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False)
        # Plain arrays over the mapped files (still shared through the page cache): numpy.memmap's
        # slicing runs __getitem__ and __array_finalize__ in Python on every posting list read.
        for part in ("data", "indices", "indptr"):
            if isinstance(retriever.scores.get(part), np.memmap):
                retriever.scores[part] = np.asarray(retriever.scores[part])
        champions = None
        if (folder / CHAMPION_FILES[0]).is_file():
            terms, rows, scores = (np.asarray(np.load(folder / f, mmap_mode="r" if mmap else None))
                                   for f in CHAMPION_FILES)
            champions = (terms, rows, scores)
        return cls(name, retriever, int(retriever.scores["num_docs"]), champions)

    def save(self, directory: Path) -> None:
        folder = directory / f"bm25_{self.name}"
        self._bm25.save(str(folder), show_progress=False)
        if self._champions is not None:
            for f, array in zip(CHAMPION_FILES, self._champions, strict=True):
                np.save(folder / f, array)

    @property
    def pruned(self) -> bool:
        """True when queries read champion lists (a large index) instead of every posting."""
        return self._champions is not None

    def tokenize(self, text: str) -> list[str]:
        return self._tokenize(text)

    def idf(self, token: str) -> float:
        """IDF of a token in this index; unseen tokens get the maximum (they are rare by definition)."""
        return self._idf.get(token, float(np.log(1 + (self._n + 0.5) / 0.5)))

    def scores(self, tokens: list[str]) -> np.ndarray:
        """Exact BM25 score of every document for the query tokens (zeros when none is known)."""
        known = [t for t in tokens if t in self._vocab]
        if not known or not self._n:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def top(self, tokens: list[str], k: int, exclude: Sequence[int] = (), exact: bool = False
            ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`top_proven` without the proof."""
        rows, scores, _ = self.top_proven(tokens, k, exclude, exact)
        return rows, scores

    def top_proven(self, tokens: list[str], k: int, exclude: Sequence[int] = (), exact: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, bool]:
        """The ``k`` best rows by BM25 and their scores, best first; rows scoring 0 and ``exclude`` left out.

        Exact (every posting of every query term) unless the index has champion lists, ``exact`` is false
        and the terms have more than EXACT_POSTINGS postings: then a frequent term contributes only its
        TOP_POSTINGS highest-scoring postings, and the best candidates are rescored exactly. The
        third value says whether the result is provably the exact top k (always, when exact)."""
        if not self._n or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), True
        if self._champions is None or exact or self.postings(tokens) <= EXACT_POSTINGS:
            scores = self.scores(tokens)
            if len(exclude):
                scores[list(exclude)] = 0.0
            n = len(scores)
            k = min(k, n)
            top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
            top = top[np.argsort(-scores[top], kind="stable")]
            top = top[scores[top] > 0]
            return top, scores[top], True
        return self._top_pruned(tokens, k, exclude)

    def postings(self, tokens: list[str]) -> int:
        """How many postings exact scoring of these query tokens reads."""
        ids = [self._vocab.get(t, -1) for t in tokens]
        ids = [i for i in ids if 0 <= i < len(self._indptr) - 1]
        return int((self._indptr[np.asarray(ids, np.int64) + 1] - self._indptr[ids]).sum()) if ids else 0

    def _top_pruned(self, tokens: list[str], k: int, exclude: Sequence[int]) -> tuple[np.ndarray, np.ndarray, bool]:
        """Champion lists, then exact scores for the best candidates; work grows with the postings read,
        not with the number of documents.

        1. Accumulate every posting of the rare terms and the TOP_POSTINGS best of each frequent term:
           a lower bound of each touched document's score. A document outside a frequent term's list
           scores at most that list's last score for the term, which gives an upper bound.
        2. The RESCORE touched documents with the best lower bounds get their exact score (binary
           search in each frequent term's full postings, sorted by row); the top k of those is the
           answer, and whether the bounds prove it is the exact top k."""
        assert self._champions is not None
        terms, champ_rows, champ_scores = self._champions
        data, indices, indptr = self._bm25.scores["data"], self._bm25.scores["indices"], self._indptr
        take = min(TOP_POSTINGS, champ_rows.shape[1])
        counts: dict[int, int] = {}
        for t in tokens:  # a repeated query term counts again, as in bm25s
            i = self._vocab.get(t)
            if i is not None and i + 1 < len(indptr):
                counts[i] = counts.get(i, 0) + 1
        empty = np.zeros(0, np.int64), np.zeros(0, np.float32)
        rare = [(i, c) for i, c in counts.items() if i not in self._champion_of]
        frequent = [(i, c, self._champion_of[i]) for i, c in counts.items() if i in self._champion_of]
        # The most a frequent term adds to a document outside its list: its list's last score.
        ceilings = [float(champ_scores[j, take - 1]) * c for _, c, j in frequent]
        parts = [(indices[indptr[i]:indptr[i + 1]], data[indptr[i]:indptr[i + 1]], c, 0.0) for i, c in rare]
        parts += [(champ_rows[j, :take], champ_scores[j, :take], c, x) for (_, c, j), x in zip(frequent, ceilings,
                                                                                                strict=True)]
        if not parts:
            return (*empty, True)
        rows = np.concatenate([p[0] for p in parts])
        weights = np.concatenate([np.asarray(p[1], np.float64) * p[2] for p in parts])
        ceiling = np.concatenate([np.full(len(p[0]), p[3]) for p in parts])
        touched, low, present = _sum_by_row(rows, weights, ceiling)
        if len(exclude):
            keep_rows = ~np.isin(touched, np.asarray(list(exclude)))
            touched, low, present = touched[keep_rows], low[keep_rows], present[keep_rows]
        if not len(touched):
            return (*empty, sum(ceilings) == 0)
        high = low + (sum(ceilings) - present)
        pick = (np.argpartition(-low, RESCORE - 1)[:RESCORE] if len(low) > RESCORE else np.arange(len(low)))
        pick.sort()
        cand = touched[pick]  # ascending rows: each binary search below starts where the last ended
        exact = np.zeros(len(cand), np.float64)
        for i, c in rare:
            postings = indices[indptr[i]:indptr[i + 1]]
            at = np.minimum(np.searchsorted(postings, cand), len(postings) - 1)
            hit = postings[at] == cand
            exact[hit] += data[indptr[i] + at[hit]].astype(np.float64) * c
        for i, c, _ in frequent:
            postings = indices[indptr[i]:indptr[i + 1]]
            at = np.minimum(np.searchsorted(postings, cand), len(postings) - 1)
            hit = postings[at] == cand
            exact[hit] += data[indptr[i] + at[hit]].astype(np.float64) * c
        exact32 = exact.astype(np.float32)
        k = min(k, len(cand))
        top = np.argpartition(-exact32, k - 1)[:k] if k < len(cand) else np.arange(len(cand))
        top = top[np.lexsort((cand[top], -exact32[top]))]
        top = top[exact32[top] > 0]
        # Exact when no document left out could reach the k-th score: not rescored (upper bound) nor unseen.
        worst = float(exact32[top[-1]]) if len(top) == k else 0.0
        outside = np.delete(high, pick)
        proven = bool(sum(ceilings) <= worst and (not len(outside) or outside.max() <= worst))
        return cand[top].astype(np.int64), exact32[top], proven


def _sum_by_row(rows: np.ndarray, weights: np.ndarray, ceiling: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows and, per row, the sums of ``weights`` and of ``ceiling`` (sorting the postings read)."""
    order = np.argsort(rows)
    rows = rows[order]
    starts = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
    return (rows[starts], np.add.reduceat(weights[order], starts), np.add.reduceat(ceiling[order], starts))


class LexicalBuilder:
    """Builds one BM25 index from batches of texts without holding their tokens: each batch becomes
    (row, term, count) postings appended to files in a scratch folder, scored in ``finish``.

    The scores are bm25s's (Lucene BM25, k1 1.5, b 0.75, float32), computed the way bm25s computes them,
    so an index built here ranks exactly as one built by ``bm25s.BM25.index``."""

    def __init__(self, name: str, scratch: Path | None = None):
        self.name = name
        self._tokenize = TOKENIZERS[name]
        self._dir = Path(tempfile.mkdtemp(prefix=f"bm25-{name}-", dir=scratch))
        self._files = {f: open(self._dir / f, "wb") for f in ("rows", "terms", "tf")}  # noqa: SIM115
        self._vocab: dict[str, int] = {}
        self._lengths: list[np.ndarray] = []
        self._n = 0

    def add(self, texts: Sequence[str]) -> None:
        vocab = self._vocab
        ids: list[int] = []
        lengths = np.zeros(len(texts), np.int64)
        for i, text in enumerate(texts):
            tokens = self._tokenize(text) or [""]  # as bm25s is given an empty document
            lengths[i] = len(tokens)
            ids.extend(vocab.setdefault(tok, len(vocab)) for tok in tokens)
        if not len(texts):
            return
        local = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        keys, counts = np.unique(local * len(vocab) + np.asarray(ids, np.int64), return_counts=True)
        (keys // len(vocab) + self._n).astype(np.int32).tofile(self._files["rows"])
        (keys % len(vocab)).astype(np.int32).tofile(self._files["terms"])
        counts.astype(np.float32).tofile(self._files["tf"])
        self._lengths.append(lengths)
        self._n += len(texts)

    def finish(self, champions: bool = False) -> LexicalIndex:
        """Score the postings and return the index (in memory; ``save`` writes it)."""
        for fh in self._files.values():
            fh.close()
        n, vocab = self._n, dict(self._vocab)
        rows = np.fromfile(self._dir / "rows", np.int32)
        terms = np.fromfile(self._dir / "terms", np.int32)
        tf = np.fromfile(self._dir / "tf", np.float32)
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, np.int64)
        df = np.bincount(terms, minlength=len(vocab)).astype(np.int64)
        # bm25s: idf in double precision (math.log), stored as float32.
        idf = np.array([math.log(1 + (n - d + 0.5) / (d + 0.5)) if d else 0.0 for d in df.tolist()],
                       np.float64).astype(np.float32)
        avg = lengths.mean() if n else np.float64(0)
        order = np.argsort(terms, kind="stable")  # by term; rows stay ascending within a term
        data = np.empty(len(order), np.float32)
        indices = np.empty(len(order), np.int32)
        for s in range(0, len(order), SCORE_BATCH):
            o = order[s:s + SCORE_BATCH]
            r = rows[o]
            f = tf[o].astype(np.float64)
            # idf × tf / (k1 × ((1 - b) + b × l_d / l_avg) + tf), in float64 as bm25s evaluates it.
            tfc = f / (K1 * ((1 - B) + (B * lengths[r]) / avg) + f)
            indices[s:s + len(o)] = r
            data[s:s + len(o)] = (idf[terms[o]].astype(np.float64) * tfc).astype(np.float32)
        del order, rows, terms, tf
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        if "" not in vocab:
            vocab[""] = len(vocab)  # bm25s adds the empty token to the vocabulary, outside the matrix
        retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        retriever.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n}
        retriever.vocab_dict = vocab
        retriever.unique_token_ids_set = set(vocab.values())
        retriever.nonoccurrence_array = None
        lists = _champion_lists(data, indices, indptr, CHAMPIONS) if champions else None
        return LexicalIndex(self.name, retriever, n, lists)

    def abort(self) -> None:
        for fh in self._files.values():
            fh.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _champion_lists(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, width: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each term in more than ``width`` documents: its ``width`` highest-scoring postings, best first."""
    df = np.diff(indptr)
    terms = np.flatnonzero(df > width).astype(np.int32)
    rows = np.empty((len(terms), width), np.int32)
    scores = np.empty((len(terms), width), np.float32)
    for j, t in enumerate(terms.tolist()):
        seg = data[indptr[t]:indptr[t + 1]]
        best = np.argpartition(-seg, width - 1)[:width]
        best = best[np.lexsort((best, -seg[best]))]
        rows[j] = indices[indptr[t] + best]
        scores[j] = seg[best]
    return terms, rows, scores
