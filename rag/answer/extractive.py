"""Offline retrieval-only answer: the sentences the reader chose (rag.answer.reader), cited."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.reader import HEADING_NUMBER, TITLE_REF, Reader, Reading, Refs, defined_term, quote, says_what
from rag.text import cjk_bigrams, split_sentences
from rag.types import Citation, Hit

__all__ = ["NOT_FOUND_TEXT", "TITLE_REF", "Extract", "extract_answer", "joined"]

NOT_FOUND_TEXT = "资料中没有找到与该问题相关的内容，无法根据现有文章回答。可以换个说法，或询问与这些产业互联网文章相关的问题。"
# An answer the passages support only in part says so, naming what they do not say.
PARTIAL_LEAD = "资料只提到了以下内容："
PARTIAL_TAIL = "关于「{}」，资料中没有找到相关内容。"


def _own_words(part: str, asked: str) -> str:
    """A missing part as the user asked it: where a follow-up was searched after the questions before
    it (「为什么 和消费互联网比呢 具体会有多少家」, turns typed without ？), the words of ``asked`` it
    ends with (fresh-user probe 22), not the join; spaces the user typed stay (「美国 是多少」)."""
    if not asked or part in asked:
        return part
    pieces = part.split()
    return next((" ".join(pieces[i:]) for i in range(len(pieces)) if " ".join(pieces[i:]) in asked), part)


@dataclass(frozen=True)
class Extract:
    """Answer text with ``[n]`` markers and the cited passages, numbered in marker order."""

    text: str
    citations: tuple[Citation, ...]
    reading: Reading | None = None


# A term (「S2B模式」「NFT」), not a phrase asking something of one (「孟永辉的微信公众号」「产业互联网最新的
# 发展」), is what a definition question can be told the articles do not define.
_TERM_CHARS = 8
# ... nor 「产业互联网的本质是什么？」, an aspect of the term.
_ASKS_ASPECT = re.compile(r"的(?:本质|核心|关键|特点|意义|作用|目的)")


def extract_answer(question: str, hits: Sequence[Hit], idf: Callable[[str], float], max_sentences: int = 4,
                   query_vec: np.ndarray | None = None,
                   sentence_vec: Callable[[str], np.ndarray | None] | None = None,
                   refs: Refs | None = None, said: frozenset[str] = frozenset(), asked: str = "") -> Extract:
    """The reader's sentences from ``hits`` as an answer: best sentence first, each sentence with
    the ``[n]`` of its passage; a quotation a sentence opens is quoted to its closing mark
    (``refs``: the articles the question names, ``said``: sentences quoted before, see ``Reader.read``;
    ``asked``: the user's own question when ``question`` is it searched after the questions before)."""
    if not hits:
        return Extract("", ())
    reading = Reader(idf, max_sentences=max_sentences).read(question, hits, query_vec, sentence_vec, refs, said)
    numbers: dict[int, int] = {}
    parts: list[str] = []
    taken: set[tuple[int, int]] = set()
    for c in reading.chosen:
        text = hits[c.hit].chunk.text
        spans = split_sentences(text)
        first = next((i for i, (a, _) in enumerate(spans) if a >= c.start), None)
        if first is None or (c.hit, c.start) in taken:
            continue
        end = _quote_end(text, spans, first, c.end)
        taken.update((c.hit, a) for a, b in spans if c.start <= a < end)
        n = numbers.setdefault(c.hit, len(numbers) + 1)
        parts.append(f"{quote(text[c.start:end])}[{n}]")
    citations = tuple(Citation.from_hit(n, hits[hi]) for hi, n in sorted(numbers.items(), key=lambda kv: kv[1]))
    body = "".join(parts)
    if body and reading.partial:
        missing = "；".join(_own_words(p.strip(" ，,"), asked) for p in reading.unanswered)
        body = PARTIAL_LEAD + body + PARTIAL_TAIL.format(missing)
    elif body and (term := defined_term(question)) and "的" not in term and len(term) <= _TERM_CHARS \
            and not _ASKS_ASPECT.search(question) and not any(
                says_what(term, c.text) or _heads(term, hits[c.hit].chunk.heading) for c in reading.chosen):
        # 「S2B模式是什么？」「NFT是什么？」: the articles only mention it, and the answer says so (fresh-user
        # probes 23 and 24: the mentions read as a definition). Not when a quote is of the section the
        # term heads (「Web3式出海是什么意思？」 from 「3. Web3式出海」's: fresh-user probe 30).
        body = PARTIAL_LEAD + body + PARTIAL_TAIL.format(f"{term.strip('「」“”')}的定义")
    elif body and (asked_term := understood_term(question)) and _held(asked_term, [c.text for c in reading.chosen]) < 0.5 \
            and not any(_heads(asked_term, hits[c.hit].chunk.heading) for c in reading.chosen):
        # 「如何理解工业4.0？」「“争气”时代这个说法怎么理解？」: no quote so much as names it (reviewer 32: once
        # 理解 was no word the passages must hold, such questions were answered with sentences on 工业 / 时代).
        body = PARTIAL_LEAD + body + PARTIAL_TAIL.format(_bare(asked_term))
    return Extract(body, citations, reading)


# 「怎么理解X？」「X这个说法怎么理解？」: what X means, asked of a phrase the writer uses.
_UNDERSTOOD = (re.compile(r"^(?:请问)?(?:该|应该|要)?(?:怎么|如何|怎样)理解\s*([^，,。；;？?\s]{2,12}?)\s*[？?]?$"),
               re.compile(r"^(?:请问)?(?:对于|对)?([^，,。；;？?\s]{2,12}?)(?:这个(?:说法|词|概念|提法))?(?:该|应该|要)?(?:怎么|如何|怎样)理解\s*[？?]?$"))


def understood_term(question: str) -> str | None:
    """The phrase a question asks how to understand (「怎么理解留量？」 → 留量), or None."""
    q = question.strip()
    m = _UNDERSTOOD[0].match(q) or _UNDERSTOOD[1].match(q)
    return m.group(1) if m else None


def _held(term: str, texts: Sequence[str]) -> float:
    """The share of ``term``'s bigrams the ``texts`` hold (「“争气”时代」: only 时代 of 争气 / 气时 / 时代)."""
    grams = set(cjk_bigrams(_bare(term)))
    held = set().union(*(cjk_bigrams(_bare(t)) for t in texts)) if texts else set()
    return len(grams & held) / len(grams) if grams else 1.0


def _bare(text: str) -> str:
    """``text`` without quotation marks, lower-cased: 「“争气”时代」 is 争气时代."""
    return re.sub(r"[「」“”『』\"']", "", text).lower()


def _heads(term: str, heading: str | None) -> bool:
    """Whether ``heading`` is the term's own (「3. Web3式出海」 for Web3式出海, not 「1. 跨产业链互联互通」 for
    产业链): its words after the numbering are the term."""
    return heading is not None and _bare(HEADING_NUMBER.sub("", heading.strip()).strip()) == _bare(term)


def _quote_end(text: str, spans: list[tuple[int, int]], first: int, end: int, reach: int = 3) -> int:
    """Where a quotation opened between ``spans[first]`` and ``end`` closes (up to ``reach`` more
    sentences): "黄奇帆所说，“如果说…创新企业。今后…系统。”" is quoted whole, not left open."""
    a = spans[first][0]
    if text.count("“", a, end) <= text.count("”", a, end):
        return end
    for _, b in spans[first + 1 : first + 1 + reach + 1]:
        if b > end and text.count("“", a, b) <= text.count("”", a, b):
            return b
    return end


_MARKER = re.compile(r"\[(\d+)\]")
# One quote of the reader's answer: a sentence (or a quotation of several) and the [n] citing it.
QUOTE = re.compile(r"([^\[\]]+?)\[(\d+)\]")


def leading_quotes(ext: Extract, count: int) -> Extract:
    """The first ``count`` quotes of a reader's answer, with the citations they use."""
    quotes = list(QUOTE.finditer(ext.text))[:count]
    kept = {int(m.group(2)) for m in quotes}
    return Extract("".join(m.group(0) for m in quotes), tuple(c for c in ext.citations if c.n in kept), ext.reading)


def joined(first: Extract, second: Extract, sep: str = "") -> Extract:
    """``second`` after ``first`` (and ``sep``), its markers renumbered after ``first``'s (a passage
    both cite keeps ``first``'s number)."""
    numbers = {c.chunk_id: c.n for c in first.citations if c.chunk_id}
    citations = list(first.citations)
    renumbered: dict[int, int] = {}
    for c in second.citations:
        n = numbers.get(c.chunk_id) if c.chunk_id else None
        if n is None:
            n = len(citations) + 1
            citations.append(replace(c, n=n))
        renumbered[c.n] = n
    text = _MARKER.sub(lambda m: f"[{renumbered.get(int(m.group(1)), int(m.group(1)))}]", second.text)
    return Extract(first.text + sep + text, tuple(citations), first.reading)
