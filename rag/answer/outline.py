"""Questions about an article's structure, answered from its section headings.

「《当元宇宙遇上产业互联网》从哪几个方面讲元宇宙的作用？」 or 「《产业互联网需要被正名》分几个部分？」 ask
for the article's outline, and 「产业互联网征战Web3有哪几个突破口？」 for the sub-headings under the
heading that names them (「二、产业互联网征战Web3 的四个突破口」 → 「1. 跨产业链互联互通」 …). The
reader quotes sentences, and a heading is not one (it is left out of its candidates), so it quoted
the sentences nearest the question instead of the list. Headings come from the chunks ingest wrote
(each chunk carries the heading it falls under); their nesting from their numbering
(「一、」 before 「1.」 before 「（1）」, in the order an article first uses them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer.extractive import Extract
from rag.text import cjk_bigrams, content_terms, topic_words
from rag.types import ArticleMeta, Chunk, Citation, Hit

__all__ = ["Section", "outline", "outline_answer"]

# Numbering styles of section headings; an article's first style is its top level.
_NUMBERING = (
    re.compile(r"^第[一二三四五六七八九十\d]+[章节部分篇]"),
    re.compile(r"^[一二三四五六七八九十]+\s*[、.．]"),
    re.compile(r"^[（(][一二三四五六七八九十]+[)）]"),
    re.compile(r"^\d{1,2}\s*(?:[、．]|\.(?!\d))"),
    re.compile(r"^[（(]\d{1,2}[)）]"),
)
# Headings that are not a section of the argument: the closing words, the author's column tag.
_NOT_A_SECTION = re.compile(r"结语|结束语|总结|写在最后|尾声|前言|引言|^#.*#$|专栏作家|作者简介|参考(?:资料|文献)|相关阅读|延伸阅读")
# 「主要讲了什么」「分几个部分」「从哪几个方面讲…」「核心观点」: the article's outline is asked for.
_ASKS_OUTLINE = re.compile(
    r"主要(?:讲|说|谈|写|介绍|论述|内容|观点)|讲了(?:什么|哪些)|核心观点|(?:哪|几)(?:个|大)?(?:部分|章节|板块)"
    r"|(?:从|分)(?:哪|几)(?:几)?个?(?:方面|角度|层面)|(?:结构|框架|大纲|提纲)(?:是|如何|怎样)"
)
# 「哪几个突破口」「有哪些突破口」「几点建议」: a list is asked for; the word after it names its items.
_ASKS_LIST = re.compile(r"(?:哪几|哪些|几)(?:个|点|种|类|条|项|大)?")
# A question's words that speak of the article itself, not of its subject.
_ABOUT_TEXT = re.compile(r"哪|几|什么|怎|如何|为何|多少|部分|章节|板块|方面|角度|层面|观点|内容|结构|框架|大纲|提纲|正文|文章|全文|本文|作者|核心|主要|各自|分别")
# The question's subject must be in the title and headings: 「《画卷》从哪几个方面比较B端和C端流量？」
# is about a passage's comparison, not the article's sections.
OUTLINE_FIT = 0.5
# A list's items quote their section's first sentence when it is this short (else the heading alone).
_LEAD_CHARS = 90
_CHINESE_COUNT = ("零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十")
# Where a section's first sentence ends (not at a semicolon: 「…第一；…」 is one sentence).
_SENTENCE_END = re.compile(r"[。！？!?][”’」』）)]*")


@dataclass(frozen=True)
class Section:
    """A heading of an article, its depth (0 = top) and the first chunk under it."""

    heading: str
    level: int
    chunk: Chunk


def _style(heading: str) -> int:
    """The numbering style of a heading (an index into _NUMBERING), or -1 when unnumbered."""
    return next((i for i, rx in enumerate(_NUMBERING) if rx.search(heading)), -1)


def outline(chunks: Sequence[Chunk]) -> list[Section]:
    """An article's sections in order, from its chunks' headings: one per heading (the first chunk
    under it), nested by numbering style in the order the article first uses them (unnumbered
    headings are top-level); the closing words and the column tag are left out."""
    out: list[Section] = []
    levels: dict[int, int] = {}
    last = None
    for chunk in chunks:
        heading = (chunk.heading or "").strip()
        if not heading or heading == last:
            continue
        last = heading
        if _NOT_A_SECTION.search(heading):
            continue
        style = _style(heading)
        level = 0 if style < 0 else levels.setdefault(style, len(levels))
        out.append(Section(heading, level, chunk))
    return out


def _children(sections: Sequence[Section], i: int) -> list[Section]:
    """The sections one level under ``sections[i]``, up to the next one at its level or above."""
    out: list[Section] = []
    for s in sections[i + 1 :]:
        if s.level <= sections[i].level:
            break
        if s.level == sections[i].level + 1:
            out.append(s)
    return out


def _lead(section: Section) -> str | None:
    """The first sentence after a section's heading, when it is short enough to quote in a list."""
    text = section.chunk.text
    body = text[len(section.heading):] if text.startswith(section.heading) else text
    start = len(body) - len(body.lstrip())
    end = _SENTENCE_END.search(body, start)
    sentence = body[start : end.end() if end else len(body)].strip()
    return sentence if sentence and len(sentence) <= _LEAD_CHARS else None


def _fit(question: str, text: str) -> float:
    """The share of the question's subject bigrams (words about the article itself left out) that
    ``text`` holds; 1.0 when the question has no subject beyond the article. Counted, not weighted
    by IDF: in a short question a rare generic word (作用) would outweigh the subject (元宇宙)."""
    terms = [t for t in content_terms(question) if len(t) >= 2 and not _ABOUT_TEXT.search(t)]
    asked = set(cjk_bigrams(" ".join(terms)))
    if not asked:
        return 1.0
    return len(asked & set(cjk_bigrams(text))) / len(asked)


def outline_answer(question: str, named: Sequence[str], retrieved: Sequence[str],
                   chunks_of: Callable[[str], Sequence[Chunk]], meta: Callable[[str], ArticleMeta]) -> Extract | None:
    """The answer from headings, or None when the question does not ask for an outline or a list
    the headings hold.

    ``named``: the articles the question names; ``retrieved``: the articles of its passages, best
    first. An article named alone, asked for its outline, answers with its top-level sections; a
    list question answers with the sub-headings of a retrieved article's heading that names the
    list's items (「哪几个突破口」 → the heading 「…的四个突破口」), each with its first sentence.
    """
    asks_outline = len(named) == 1 and bool(_ASKS_OUTLINE.search(question))
    list_word = _list_word(question)
    if not asks_outline and list_word is None:
        return None
    if list_word is not None:
        found = _list_under_heading(question, list_word, named or retrieved, chunks_of)
        if found is not None:
            parent, items = found
            return _items_of(parent, items, meta)
    if asks_outline:
        sections = [s for s in outline(chunks_of(named[0])) if s.level == 0]
        article = meta(named[0])
        if len(sections) >= 2 and _fit(_without_title(question), article.title + "".join(
                s.heading for s in sections)) >= OUTLINE_FIT:
            return _sections_of(article.title, sections, meta)
    return None


def _unnumbered(heading: str) -> str:
    """A heading without its numbering (「二、…的四个突破口」 → 「…的四个突破口」)."""
    style = _style(heading)
    return heading[_NUMBERING[style].search(heading).end():].strip() if style >= 0 else heading  # type: ignore[union-attr]


def _without_title(question: str) -> str:
    return re.sub(r"《[^》]*》", " ", question)


def _list_word(question: str) -> str | None:
    """The word that names a list question's items (「有哪几个突破口」 → 突破口), or None."""
    for m in _ASKS_LIST.finditer(question):
        after = [w for w in topic_words(question[m.end() :]) if not _ABOUT_TEXT.fullmatch(w)]
        if after and len(after[0]) >= 2 and question[m.end() :].startswith(after[0]):
            return after[0]
    return None


def _list_under_heading(question: str, word: str, articles: Sequence[str],
                        chunks_of: Callable[[str], Sequence[Chunk]]) -> tuple[Section, list[Section]] | None:
    """The first heading (articles in the given order) that names the list's items and fits the
    question, with the two or more sections under it."""
    for article_id in dict.fromkeys(articles):
        sections = outline(chunks_of(article_id))
        for i, s in enumerate(sections):
            if word not in s.heading:
                continue
            items = _children(sections, i)
            if len(items) >= 2 and _fit(_without_title(question), s.heading) >= OUTLINE_FIT:
                return s, items
    return None


def _cited(sections: Sequence[Section], meta: Callable[[str], ArticleMeta]) -> tuple[Citation, ...]:
    """Section n cites its first passage as [n]."""
    return tuple(Citation.from_hit(n, Hit(rank=0, score=0.0, chunk=s.chunk, article=meta(s.chunk.article_id)))
                 for n, s in enumerate(sections, 1))


def _sections_of(title: str, sections: Sequence[Section], meta: Callable[[str], ArticleMeta]) -> Extract:
    """「《title》分为四个部分：一、…[1]；二、…[2]。」"""
    count = _CHINESE_COUNT[len(sections)] if len(sections) < len(_CHINESE_COUNT) else str(len(sections))
    listed = "；".join(f"{s.heading}[{n}]" for n, s in enumerate(sections, 1))
    return Extract(f"《{title}》分为{count}个部分：{listed}。", _cited(sections, meta))


def _items_of(parent: Section, items: Sequence[Section], meta: Callable[[str], ArticleMeta]) -> Extract:
    """The parent heading, then one line per item: its heading and its first sentence, cited."""
    lines = []
    for n, s in enumerate(items, 1):
        first = _lead(s)
        lines.append(f"{s.heading}：{first}[{n}]" if first else f"{s.heading}[{n}]")
    return Extract(f"{_unnumbered(parent.heading)}：\n" + "\n".join(lines), _cited(items, meta))
