"""Questions about an article's structure, answered from its section headings.

「《当元宇宙遇上产业互联网》从哪几个方面讲元宇宙的作用？」 or 「《产业互联网需要被正名》分几个部分？」 ask
for the article's outline, and 「产业互联网征战Web3有哪几个突破口？」 for the sub-headings under the
heading that names them (「二、产业互联网征战Web3 的四个突破口」 → 「1. 跨产业链互联互通」 …). The
reader quotes sentences, and a heading is not one (it is left out of its candidates), so it quoted
the sentences nearest the question instead of the list. Headings come from the chunks ingest wrote
(each chunk carries the heading it falls under) and from the short heading lines in their text;
their nesting from their numbering (「一、」 before 「1.」 before 「（1）」, in the order an article
first uses them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer.extractive import Extract
from rag.text import CJK_CHAR, cjk_bigrams, content_terms, topic_words
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
# Headings that are no section of the argument (the author's column tag, further reading), and
# the closing words, listed after the sections (「最后是结语」).
_NOT_A_SECTION = re.compile(r"^#.*#$|专栏作家|作者简介|参考(?:资料|文献)|相关阅读|延伸阅读|前言|引言")
_CLOSING = re.compile(r"结语|结束语|写在最后|尾声|^(?:[一二三四五六七八九十\d]+\s*[、.．]\s*)?总结$")
# A line that stands as a heading without a number (「流量，绝非产业互联网的关键」): a paragraph of
# its own, short, with no sentence end. Ingest does not start a chunk at one (bench/README.md,
# "Fifth round"), so they are found in the chunks' text.
_HEADING_CHARS = 24
_NO_HEADING_END = ("。", "！", "？", "!", "?", "；", ";", "…", "：", ":", "，", ",", "”", "」", "）", ")")
# 「主要讲了什么」「分几个部分」「从哪几个方面讲…」「小标题」「脉络」: the article's outline is asked for.
_ASKS_OUTLINE = re.compile(
    r"主要(?:讲|说|谈|写|介绍|论述|内容|观点)|讲了(?:什么|哪些)|核心观点|(?:哪|几)(?:个|大)?(?:部分|章节|板块)"
    r"|(?:从|分)(?:哪|几)(?:几|些)?个?(?:方面|角度|层面)|(?:结构|框架|大纲|提纲)(?:是|如何|怎样)|小标题|几节|每一?节"
    r"|脉络|梗概|概要|大意|行文思路|论证思路"
)
# ... and what each part says, not only its heading (「每部分分别讲的是什么」「概括每一节」): measured on
# 24 structure, list and control questions written for this, each part's gist always added scored
# answer_points .572 against .566 when asked, with answers 26 characters longer and the first
# sentence holding a point less often (.417 against .458).
_ASKS_EACH = re.compile(r"每|各(?:个|部分|节)|分别|概括|梗概|脉络|思路|讲的是什么|讲了什么|说了什么")
# 「哪几个突破口」「有哪些突破口」「几点建议」: a list is asked for; the word after it names its items.
_ASKS_LIST = re.compile(r"(?:哪几|哪些|几)(?:个|点|种|类|条|项|大)?")
# A question's words that speak of the article itself or ask, not of its subject.
_ABOUT_TEXT = re.compile(
    r"哪|几|什么|怎|如何|为何|多少|部分|章节|板块|方面|角度|层面|观点|内容|结构|框架|大纲|提纲|正文|文章|全文|本文|作者|核心"
    r"|主要|各自|分别|分成|分为|分了|划分|一共|共有|每|节|段|章|标题|概括|总结|梗概|概要|大意|脉络|思路|论证|讲|谈|介绍"
    r"|审视|阐述|论述|大体|大致|请|给我"
)
# The question's subject must be in the title and headings: 「《画卷》从哪几个方面比较B端和C端流量？」
# is about a passage's comparison, not the article's sections.
OUTLINE_FIT = 0.5
# A section's gist holds this share of its heading's bigrams and this many bigrams of its own, in
# a sentence this short (else the heading stands alone).
GIST_SHARE = 0.5
GIST_NEW = 5
_GIST_CHARS = 90
# A sentence of a section (a semicolon does not end one: 「…第一；…」).
_SENTENCE = re.compile(r"[^。！？!?]+(?:[。！？!?]+[”’」』）)]*|$)")
_CHINESE_COUNT = ("零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十")


@dataclass(frozen=True)
class Section:
    """A heading of an article, its depth (0 = top), the chunk it starts in and the sentences of
    its text up to the next heading, each with its chunk."""

    heading: str
    level: int
    chunk: Chunk
    sentences: tuple[tuple[Chunk, str], ...] = ()


def _style(heading: str) -> int:
    """The numbering style of a heading (an index into _NUMBERING), or -1 when unnumbered."""
    return next((i for i, rx in enumerate(_NUMBERING) if rx.search(heading)), -1)


def _unnumbered(heading: str) -> str:
    """A heading without its numbering (「二、…的四个突破口」 → 「…的四个突破口」)."""
    style = _style(heading)
    m = _NUMBERING[style].search(heading) if style >= 0 else None
    return heading[m.end():].strip() if m else heading


def _looks_like_heading(line: str) -> bool:
    """A short paragraph of its own with no sentence end, holding Chinese."""
    return 2 <= len(line) <= _HEADING_CHARS and not line.endswith(_NO_HEADING_END) and bool(CJK_CHAR.search(line))


def outline(chunks: Sequence[Chunk], title: str = "") -> list[Section]:
    """An article's sections in order: the headings its chunks carry and the unnumbered heading
    lines in their text, one section per heading, nested by numbering style in the order the
    article first uses them (unnumbered headings are top-level). The column tag and further
    reading are left out; the closing words (结语) are a section. Overlapping chunks give each
    sentence once."""
    found: list[tuple[str, Chunk, list[tuple[Chunk, str]]]] = []
    seen_headings = {title.strip()}
    seen_sentences: set[str] = set()
    for chunk in chunks:
        heading = (chunk.heading or "").strip()
        for line in (x.strip() for x in chunk.text.split("\n")):
            if not line:
                continue
            if line == heading or _looks_like_heading(line):
                if line not in seen_headings:
                    seen_headings.add(line)
                    found.append((line, chunk, []))
                continue
            if not found:
                continue  # the lead before the first heading belongs to no section
            for sentence in (m.group().strip() for m in _SENTENCE.finditer(line)):
                if sentence and sentence not in seen_sentences:
                    seen_sentences.add(sentence)
                    found[-1][2].append((chunk, sentence))
    out: list[Section] = []
    levels: dict[int, int] = {}
    for heading, chunk, sentences in found:
        if _NOT_A_SECTION.search(heading):
            continue
        style = _style(heading)
        level = 0 if style < 0 else levels.setdefault(style, len(levels))
        out.append(Section(heading, level, chunk, tuple(sentences)))
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


def _gist(section: Section) -> tuple[Chunk, str] | None:
    """The sentence that says what a section's heading announces: a short one (not a question)
    holding most of the heading's bigrams and more than the heading (the later one on a tie: a
    section tends to end on its point, 「…流量，绝不是产业互联网的关键，留量，才是…」); else its first
    sentence when short."""
    wanted = set(cjk_bigrams(_unnumbered(section.heading)))
    best: tuple[float, int] | None = None
    chosen = None
    for i, (chunk, sentence) in enumerate(section.sentences):
        if len(sentence) > _GIST_CHARS or sentence.endswith(("？", "?")):
            continue
        grams = set(cjk_bigrams(sentence))
        share = len(wanted & grams) / len(wanted) if wanted else 0.0
        if share >= GIST_SHARE and len(grams - wanted) >= GIST_NEW and (best is None or (share, i) >= best):
            best, chosen = (share, i), (chunk, sentence)
    if chosen is not None:
        return chosen
    first = section.sentences[0] if section.sentences else None
    return first if first is not None and len(first[1]) <= _GIST_CHARS else None


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
    first. An article named alone, asked for its outline, answers with its top-level sections (and
    each one's gist when the question asks what each says); a list question answers with the
    sub-headings of a retrieved article's heading that names the list's items (「哪几个突破口」 →
    the heading 「…的四个突破口」), each with its gist.
    """
    asks_outline = len(named) == 1 and bool(_ASKS_OUTLINE.search(question))
    list_word = _list_word(question)
    if not asks_outline and list_word is None:
        return None
    if list_word is not None:
        found = _list_under_heading(question, list_word, named or retrieved, chunks_of, meta)
        if found is not None:
            parent, items = found
            return _items_of(parent, items, meta)
    if asks_outline:
        article = meta(named[0])
        top = [s for s in outline(chunks_of(named[0]), article.title) if s.level == 0]
        sections = [s for s in top if not _CLOSING.search(s.heading)]
        closing = next((s for s in top if _CLOSING.search(s.heading)), None)
        if len(sections) >= 2 and _fit(_without_title(question), article.title + "".join(
                s.heading for s in sections)) >= OUTLINE_FIT:
            return _sections_of(article.title, sections, closing, meta, bool(_ASKS_EACH.search(question)))
    return None


def _without_title(question: str) -> str:
    return re.sub(r"《[^》]*》", " ", question)


def _list_word(question: str) -> str | None:
    """The word that names a list question's items (「有哪几个突破口」 → 突破口), or None."""
    for m in _ASKS_LIST.finditer(question):
        after = [w for w in topic_words(question[m.end() :]) if not _ABOUT_TEXT.fullmatch(w)]
        if after and len(after[0]) >= 2 and question[m.end() :].startswith(after[0]):
            return after[0]
    return None


def _list_under_heading(question: str, word: str, articles: Sequence[str], chunks_of: Callable[[str], Sequence[Chunk]],
                        meta: Callable[[str], ArticleMeta]) -> tuple[Section, list[Section]] | None:
    """The first heading (articles in the given order) that names the list's items and fits the
    question, with the two or more sections under it."""
    for article_id in dict.fromkeys(articles):
        sections = outline(chunks_of(article_id), meta(article_id).title)
        for i, s in enumerate(sections):
            if word not in s.heading:
                continue
            items = _children(sections, i)
            if len(items) >= 2 and _fit(_without_title(question), s.heading) >= OUTLINE_FIT:
                return s, items
    return None


def _cite(n: int, chunk: Chunk, meta: Callable[[str], ArticleMeta]) -> Citation:
    return Citation.from_hit(n, Hit(rank=0, score=0.0, chunk=chunk, article=meta(chunk.article_id)))


def _lines(sections: Sequence[Section], meta: Callable[[str], ArticleMeta]) -> tuple[list[str], tuple[Citation, ...]]:
    """One line per section, 「heading：gist[n]」 (the heading alone when it has none), each citing
    the passage its text comes from."""
    lines, cited = [], []
    for n, s in enumerate(sections, 1):
        gist = _gist(s)
        lines.append(f"{s.heading}：{gist[1]}[{n}]" if gist else f"{s.heading}[{n}]")
        cited.append(_cite(n, gist[0] if gist else s.chunk, meta))
    return lines, tuple(cited)


def _sections_of(title: str, sections: Sequence[Section], closing: Section | None,
                 meta: Callable[[str], ArticleMeta], each: bool) -> Extract:
    """「《title》分为四个部分：一、…[1]；二、…[2]；最后是结语：…[3]。」, or with ``each`` one line per
    section with its gist."""
    count = _CHINESE_COUNT[len(sections)] if len(sections) < len(_CHINESE_COUNT) else str(len(sections))
    if each:
        lines, cited = _lines([*sections, closing] if closing is not None else sections, meta)
        lead = f"《{title}》分为{count}个部分" + ("，最后是结语" if closing is not None else "")
        return Extract(f"{lead}：\n" + "\n".join(lines), cited)
    parts = [f"{s.heading}[{n}]" for n, s in enumerate(sections, 1)]
    citations = [_cite(n, s.chunk, meta) for n, s in enumerate(sections, 1)]
    if closing is not None:
        gist = _gist(closing)
        n = len(sections) + 1
        parts.append(f"最后是结语：{gist[1].rstrip('。')}[{n}]" if gist else f"最后是{_unnumbered(closing.heading)}[{n}]")
        citations.append(_cite(n, gist[0] if gist else closing.chunk, meta))
    return Extract(f"《{title}》分为{count}个部分：" + "；".join(parts) + "。", tuple(citations))


def _items_of(parent: Section, items: Sequence[Section], meta: Callable[[str], ArticleMeta]) -> Extract:
    """The parent heading, then one line per item: its heading and its gist, cited."""
    lines, cited = _lines(items, meta)
    return Extract(f"{_unnumbered(parent.heading)}：\n" + "\n".join(lines), cited)
