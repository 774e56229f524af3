"""Offline retrieval-only answer: the retrieved sentences that best answer the question, cited."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.text import cjk_bigrams, content_terms, split_sentences
from rag.types import Citation, Hit

# 《…》 names an article or book: it selects the source (retrieval used it) but is not what is asked.
TITLE_REF = re.compile(r"《([^》]{1,80})》")
# Closing quotes and brackets after a sentence's last punctuation ("…。”").
_CLOSING = "”’」』）)\"'"
# A short line that does not end like a sentence is a heading ("1. 跨产业链互联互通" splits into
# "1." and the title) or a fragment cut at a line break, not an answer.
_HEADING_LIKE_CHARS = 24
_SENTENCE_END = ("。", "！", "？", "!", "?", "；", ";", "…")
# Sentences about the article rather than its subject (the editor's lead: "本篇文章里，作者…，
# 一起来看一下。"): they match every question on the article's topic and answer none.
_ABOUT_THE_ARTICLE = re.compile(r"一起来看|一起看看|^编辑导[语读]|本篇文章|本文作者|在本文中|这篇文章里|笔者将")
NOT_FOUND_TEXT = "资料中没有找到与该问题相关的内容，无法根据现有文章回答。可以换个说法，或询问与这些产业互联网文章相关的问题。"


@dataclass(frozen=True)
class Extract:
    """Answer text with ``[n]`` markers and the cited passages, numbered in marker order."""

    text: str
    citations: tuple[Citation, ...]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _without_source_names(question: str, hits: Sequence[Hit]) -> str:
    """The question minus what names a source: 《titles》 and the retrieved articles' authors.

    "在孟永辉看来…" selects the articles (retrieval used the name), but the answer is not the
    sentence that repeats the name (a byline or an author bio).
    """
    asked = TITLE_REF.sub(" ", question)
    for name in {h.article.author for h in hits if h.article.author and len(h.article.author) >= 2}:
        asked = asked.replace(name, " ")
    return asked


def extract_answer(question: str, hits: Sequence[Hit], idf: Callable[[str], float], max_sentences: int = 3) -> Extract:
    """Pick up to ``max_sentences`` sentences from the hits, deterministic and deduplicated.

    A sentence scores by the IDF-weighted share of the question's terms it contains, plus a
    prior for the rank of its passage (fusion already judged the passage as a whole); the top
    passage always contributes, so a paraphrased question still gets its best passage quoted.
    """
    if not hits:
        return Extract("", ())
    asked = _without_source_names(question, hits)
    q = set(cjk_bigrams(" ".join(content_terms(asked)) or asked))
    q_total = sum(idf(t) for t in q) or 1.0
    cands: list[tuple[float, int, int, str, set[str]]] = []  # score, hit index, position, text, bigrams
    spans = [split_sentences(hit.chunk.text) for hit in hits]
    for hi, hit in enumerate(hits):
        text = hit.chunk.text
        for pos, (a, b) in enumerate(spans[hi]):
            sent = text[a:b]
            if len(sent) < 8 or sent == hit.chunk.heading:
                continue
            if _ABOUT_THE_ARTICLE.search(sent):
                continue
            ending = sent.rstrip(_CLOSING)
            if len(sent) < _HEADING_LIKE_CHARS and not ending.endswith(_SENTENCE_END):
                continue
            grams = set(cjk_bigrams(sent))
            overlap = sum(idf(t) for t in q & grams) / q_total
            score = overlap + 0.25 / (hi + 1) - 0.002 * pos
            if ending.endswith(("？", "?")):
                score *= 0.5  # a (rhetorical) question restates the topic; it does not answer
            cands.append((score, hi, pos, sent, grams))
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    chosen: list[tuple[float, int, int, str, set[str]]] = []
    per_hit: dict[int, int] = {}
    best = cands[0][0] if cands else 0.0
    for c in cands:
        # Short answers: stop at sentences much weaker than the best one.
        if len(chosen) == max_sentences or (chosen and c[0] < 0.5 * best):
            break
        if per_hit.get(c[1], 0) >= 2 or any(_jaccard(c[4], o[4]) > 0.6 for o in chosen):
            continue
        chosen.append(c)
        per_hit[c[1]] = per_hit.get(c[1], 0) + 1
    if chosen and all(c[1] != 0 for c in chosen):
        best_top = next((c for c in cands if c[1] == 0), None)
        if best_top is not None:
            chosen[-1] = best_top
    chosen.sort(key=lambda c: (c[1], c[2]))
    numbers: dict[int, int] = {}
    parts: list[str] = []
    taken: set[tuple[int, int]] = set()
    for _, hi, pos, _, _ in chosen:
        if (hi, pos) in taken:
            continue
        last = _quote_end(hits[hi].chunk.text, spans[hi], pos)
        taken.update((hi, p) for p in range(pos, last + 1))
        n = numbers.setdefault(hi, len(numbers) + 1)
        parts.append(f"{hits[hi].chunk.text[spans[hi][pos][0] : spans[hi][last][1]]}[{n}]")
    citations = tuple(Citation.from_hit(n, hits[hi]) for hi, n in sorted(numbers.items(), key=lambda kv: kv[1]))
    return Extract("".join(parts), citations)


def _quote_end(text: str, spans: list[tuple[int, int]], pos: int, reach: int = 3) -> int:
    """The last sentence of a quotation that sentence ``pos`` opens but does not close.

    "黄奇帆所说，“如果说…创新企业。今后…系统。”" splits into two sentences; quoting the first
    alone would leave the quotation open. Up to ``reach`` sentences are added to close it.
    """
    a, b = spans[pos]
    if text.count("“", a, b) <= text.count("”", a, b):
        return pos
    for last in range(pos + 1, min(pos + 1 + reach, len(spans))):
        if text.count("“", a, spans[last][1]) <= text.count("”", a, spans[last][1]):
            return last
    return pos
