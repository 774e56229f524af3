"""Questions about an article's structure, answered from its section headings.

「《当元宇宙遇上产业互联网》从哪几个方面讲元宇宙的作用？」 or 「《产业互联网需要被正名》分几个部分？」 ask
for the article's outline, and 「产业互联网征战Web3有哪几个突破口？」 for the sub-headings under the
heading that names them (「二、产业互联网征战Web3 的四个突破口」 → 「1. 跨产业链互联互通」 …). The
reader quotes sentences, and a heading is not one (it is left out of its candidates), so it quoted
the sentences nearest the question instead of the list.

Headings come from the chunks ingest wrote: each chunk carries the heading it falls under, and the
first chunk of a section starts with its heading line (after a parent heading that has no body of
its own). In an article without 第X章 or 「一、」 headings, short lines of their own
(「流量，绝非产业互联网的关键」) are headings too: two or more, after the article's first sentence, with
prose after each, not in a run of such lines or after a line ending in 「：」 (a list). Nesting follows the numbering: 第X章 over 「一、」 over 「（一）」 over 「1.」 over 「1.1」
over 「（1）」, ranked among the styles an article uses. Ingest (ingest/chunk.py) does not mark
「（一）」 or 「（1）」 lines and the line rule takes none that opens with a bracket, so such
sub-headings stay in their section's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer.extractive import Extract
from rag.answer.reader import Reader, body_sentences, candidates, leans_back, quote
from rag.text import CJK_CHAR, chinese_number, cjk_bigrams, content_terms, topic_words
from rag.types import ArticleMeta, Chunk, Citation, Hit

__all__ = ["Section", "asks_outline", "is_closing", "outline", "outline_answer", "place_answer"]

# Numbering styles of section headings, outermost first.
_NUMBERING = (
    re.compile(r"^第[一二三四五六七八九十\d]+[章节部分篇]"),
    re.compile(r"^[一二三四五六七八九十]+\s*[、.．]"),
    re.compile(r"^[（(][一二三四五六七八九十]+[)）]"),
    re.compile(r"^\d{1,2}\s*(?:[、．]|\.(?!\d))"),
    re.compile(r"^\d{1,2}\.\d{1,2}(?!\d)"),
    re.compile(r"^[（(]\d{1,2}[)）]"),
)
# The outermost styles: an article that uses one has its headings marked by ingest throughout.
_TOP_STYLES = (0, 1)
# Headings that are no part of the argument: the column tag, summaries between sections, notes.
_NOT_A_SECTION = re.compile(r"^#.*#$|专栏作家|作者简介|参考(?:资料|文献)|相关阅读|延伸阅读|前言|引言|写在前面|小结|图片来源")
# The closing words, listed after the parts (「最后是结语」) when they are the article's last section.
_CLOSING = re.compile(r"^(?:(?:[一二三四五六七八九十]+|\d{1,2})\s*[、.．]\s*)?(?:结语|结束语|写在最后|尾声|总结)[:：]?$")
# A line that may be an unnumbered heading: short, its own paragraph, no sentence end, no colon or
# slash (「图片来源：网络」「文/孟永辉」).
_HEADING_CHARS = 24
_NO_HEADING_END = ("。", "！", "？", "!", "?", "；", ";", "…", "：", ":", "，", ",", "”", "」", "）", ")")
_NOT_IN_HEADING = re.compile(r"[:：/|｜]|^(?:文|图|来源|作者|编辑|责编|原标题)|^[^\u4e00-\u9fff]")
# A line before a section's own heading at the top of its first chunk: the parent heading ingest
# packed with it (ingest takes headings of up to 40 characters).
_PACKED_HEADING_CHARS = 40
_SENTENCE_END = ("。", "！", "？", "!", "?")
# 「主要讲了什么」「分几个部分」「从哪几个方面讲…」「小标题」「脉络」: the article's outline is asked for
# (「讲了哪些元宇宙的例子」「主要讲了平台的什么问题」「哪个部分讲了…」 ask for a detail, and 「几个部分」 is
# the article's only right after it: not 「…产业链分为哪几个部分」).
_ASKS_OUTLINE = re.compile(
    r"(?:讲|说|谈|介绍|论述|提出)(?:了|的是)?(?:什么|啥|哪些)(?:内容|方面|观点|问题)?(?=[？?。！!，,；;]|$)"
    r"|主要内容|主要观点|核心观点|主要论点|中心思想|观点(?:是什么|有哪些)"
    r"|(?:讲|说|谈)了?(?:哪几|哪些|几)个?(?:点|观点)(?=[？?。！!，,；;]|$)"
    r"|(?:》|文章|本文|全文|正文|这篇|那篇|该文|一文)的?(?:一共|总共|共|主要)?(?:可以)?(?:分(?:成|为)?了?|包括|包含|有)?"
    r"(?:几|哪几|哪些)(?:个|大)?(?:部分|章节|板块)(?!组成|构成)"
    r"|(?:从|分)(?:哪|几)(?:几|些)?个?(?:方面|角度|层面)|(?:结构|框架|大纲|提纲)(?:是|如何|怎样)|小标题|几节|每一?节"
    r"|脉络|梗概|概要|大意|行文思路|论证思路|(?:总结|概括|归纳|概述|简述)(?:一下)?(?:这篇|那篇|该文|全文|文章)?(?=[《》？?。！!，,；;]|$)"
)
# ... and what each part says, not only its heading (「每部分分别讲的是什么」「概括每一节」): measured on
# 24 structure, list and control questions written for this, each part's gist always added scored
# answer_points .572 against .566 when asked, with answers 26 characters longer and the first
# sentence holding a point less often (.417 against .458).
_ASKS_EACH = re.compile(r"每|各(?:个|部分|节)|分别|概括|总结|归纳|概述|简述|梗概|脉络|思路|讲的是什么|讲了什么|说了什么")
# 「哪几个突破口」「突破口有哪些」: a list is asked for; the word next to the question word names its items.
_ASKS_LIST = re.compile(r"(?:哪几|哪[两二三四五六七八九十]|哪些|几)(?:个|点|种|类|条|项|大)?")
_BEFORE_LIST = re.compile(r"(?:有|是|包括|包含)?(?:哪几|哪[两二三四五六七八九十]|哪些|几)(?:个|点|种|条|项)?(?=[？?。！!，,；;]|呢|$)")
# 「第二个小标题是什么」「第三部分讲了什么」: one part of a named article, by its place, asked for as a
# whole (not 「第二部分提到的前端指什么？」, 「第二部分和第三部分有什么区别？」).
_NTH_PART = re.compile(r"第\s*([一二三四五六七八九十]|\d{1,2})\s*(?:个)?\s*(?:小标题|标题|部分|节|章|板块)"
                       r"(?:的?(?:小标题|标题|内容|主要内容|观点))?"
                       r"(?:是什么|是啥|讲了什么|说了什么|讲的是什么|说的是什么|写了什么|讲什么|说什么)[\s？?。！!]*$")
# 「提出了哪几个“绝非”？」: the word in quotes is what the items say; the headings that hold it are they.
_QUOTED_LIST = re.compile(r"(?:哪几|哪[两二三四五六七八九十]|哪些|几)(?:个|点|种|条|项|大)?[“\"「『']([^”\"」』'\s]{1,10})[”\"」』']")
# 「四个突破口分别是什么」: a counted word asked for.
_COUNTED_ASKED = re.compile(r"[一二两三四五六七八九十几\d]+\s*(?:个|点|种|条|项|大)\s*([\u4e00-\u9fffA-Za-z\d]{2,8}?)"
                            r"(?:分别|各自|都)?(?:是|指|有)(?:什么|哪些|啥)")
# 「元宇宙对产业互联网有什么作用？」: what one thing does for another, asked as a whole (fresh-user probe 23:
# 「有哪些作用」 got the four parts that say it, 「有什么作用」 the last part's sentences).
_WHAT_EFFECT = re.compile(r"(?:有|起到了?|带来了?|发挥了?)(?:什么|啥|何)(?:样的)?(作用|影响|帮助|意义|好处|贡献|改变)")
# Words of a question about the article itself, its parts or asking, not about its subject: a term
# made of them only is left out of the subject (手段, 阶段 and 环节 stay).
_ABOUT_TEXT = re.compile(
    r"(?:哪|几|个|些|种|点|条|项|类|一|有|什么|怎|如何|为何|多少|部分|章节|板块|方面|角度|层面|观点|内容|结构|框架|大纲|提纲|正文|文章|全文|本文|作者"
    r"|这|那|篇|分"  # 「从Web2到Web3这篇分几个部分？」: jieba's 这篇分 (fresh-user probe 28)
    r"|核心|主要|各自|分别|分成|分为|分了|划分|一共|共有|每|节|段|章|标题|小标题|概括|总结|归纳|概述|简述|梗概|概要|大意|脉络|思路|论证"
    r"|讲|谈|说|写|介绍|审视|阐述|论述|大体|大致|大概|一下|来|去|从|是|各个|啥|请|给|我|提出|提到|认为|列举|指出|给出|觉得|看来|论点|中心|思想)+"
)
# Phrases about the text itself, cut from a question before its words are taken (jieba would leave
# pieces of them: 中心思想 → 心思, 每一部分 → 一部).
_ABOUT_PHRASES = re.compile(r"中心思想|行文思路|论证思路|每一?(?:个)?部分|各个?部分|每一?节|几个?部分|哪几个?部分|大概|大致|一下|主要内容|分别")
# The question's subject must be in the title (an outline: three quarters of its bigrams, so
# 「…产业链分为哪几个部分」 or 「作者从哪几个方面改变了产业互联网的玩家」 is read) or in the heading and
# title (a list: half).
OUTLINE_FIT = 0.75
LIST_FIT = 0.5
# A section's gist holds this share of its heading's bigrams and this many bigrams of its own, in
# a sentence this short (else its first sentence when as short, else the heading stands alone).
GIST_SHARE = 0.5
GIST_NEW = 5
_GIST_CHARS = 90
# A sentence that reports a view (to refute it), and one that concludes.
_OTHERS_VIEW = re.compile(r"想当然|误以为|误解|很多人(?:都)?(?:会)?认为|有人(?:会)?认为|人们(?:会|通常|往往)?(?:想当然地)?(?:认为|以为|看成)")
_CONCLUDES = re.compile(r"^(?:因此|所以|可见|由此|总之|总的来看|笔者认为|透过|说到底)|才是")
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


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _opening_headings(chunk: Chunk) -> list[str]:
    """The heading lines a section's first chunk opens with (a parent heading without a body of its
    own, then the chunk's heading); none for a chunk that continues a section."""
    heading = (chunk.heading or "").strip()
    if not heading:
        return []
    lines = _lines(chunk.text)[:4]
    if heading not in lines:
        return []
    lead = lines[: lines.index(heading)]
    packed = all(len(x) <= _PACKED_HEADING_CHARS and not x.endswith(_SENTENCE_END) for x in lead)
    return [*lead, heading] if packed else [heading]


def _marked_line(line: str, title: str) -> bool:
    """A line that may be an unnumbered heading (「流量，绝非产业互联网的关键」)."""
    return (4 <= len(line) <= _HEADING_CHARS and not line.endswith(_NO_HEADING_END) and bool(CJK_CHAR.search(line))
            and not _NOT_IN_HEADING.search(line) and line.lstrip("#").strip() != title)


def _unmarked_headings(chunks: Sequence[Chunk], title: str) -> set[tuple[int, int]]:
    """Where an article's unnumbered heading lines are, as (chunk, line) positions: a short line of
    its own after the article's first sentence, with prose after it, not in a run of such lines or
    after a line ending in 「：」 (those are a list: 「2019年市场规模3.2万亿元」…), two or more of them."""
    entries: list[tuple[int, int, str]] = []
    previous: set[str] = set()
    for ci, chunk in enumerate(chunks):
        lines = _lines(chunk.text)
        for li, line in enumerate(lines):
            if line not in previous:  # overlapping chunks repeat the end of the one before
                entries.append((ci, li, line))
        previous = set(lines)
    found: set[tuple[int, int]] = set()
    prose = False
    for k, (ci, li, line) in enumerate(entries):
        candidate = _marked_line(line, title)
        if not candidate:
            prose = prose or bool(_SENTENCE.search(line)) and line.lstrip("#").strip() != title
            continue
        before = entries[k - 1][2] if k else ""
        after = entries[k + 1][2] if k + 1 < len(entries) else ""
        if (prose and after and not _marked_line(after, title) and not _marked_line(before, title)
                and not before.endswith(("：", ":"))):
            found.add((ci, li))
    return found if len(found) >= 2 else set()


def outline(chunks: Sequence[Chunk], title: str = "") -> list[Section]:
    """An article's sections in order (see the module's docstring), each with its level, first
    chunk and sentences; overlapping chunks give each sentence once. Sections that are no part of
    the argument (the column tag, 小结, 写在前面 …) are left out; the closing words are a section.
    An article with top-level numbered headings (第X章, 一、) is read from ingest's headings alone;
    any other also from its unnumbered heading lines, with numbered headings under them."""
    title = title.strip()
    marked = any(c.heading and _style(c.heading.strip()) in _TOP_STYLES for c in chunks)
    unmarked = set() if marked else _unmarked_headings(chunks, title)
    found: list[tuple[str, Chunk, list[tuple[Chunk, str]]]] = []
    seen_sentences: set[str] = set()
    for ci, chunk in enumerate(chunks):
        opening = _opening_headings(chunk)
        found.extend((h, chunk, []) for h in opening)
        lines = _lines(chunk.text)
        start = lines.index(opening[-1]) + 1 if opening else 0  # the body after the heading lines
        for li, line in enumerate(lines):
            if li < start:
                continue
            if (ci, li) in unmarked:
                found.append((line, chunk, []))
                continue
            for sentence in (m.group().strip() for m in _SENTENCE.finditer(line)):
                if sentence and sentence not in seen_sentences:
                    seen_sentences.add(sentence)
                    if found:
                        found[-1][2].append((chunk, sentence))
    styles = sorted({_style(h) for h, _, _ in found} - {-1})
    shift = 1 if unmarked and styles else 0  # numbered headings under unnumbered ones
    out: list[Section] = []
    for heading, chunk, sentences in found:
        if _NOT_A_SECTION.search(heading):
            continue
        style = _style(heading)
        out.append(Section(heading, styles.index(style) + shift if style >= 0 else 0, chunk, tuple(sentences)))
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
    """The sentence that says what a section's heading announces: a short one (not a question, not a
    view the section reports to refute: 「人们会想当然地将平台模式，看成是…」) holding most of the
    heading's bigrams and more than the heading, a conclusion first (因此, 可见, 笔者认为, …才是…),
    then the later one (a section tends to end on its point, 「…流量，绝不是产业互联网的关键，留量，才是…」);
    else its first sentence when short."""
    wanted = set(cjk_bigrams(_unnumbered(section.heading)))
    best: tuple[bool, float, int] | None = None
    chosen = None
    for i, (chunk, sentence) in enumerate(section.sentences):
        if len(sentence) > _GIST_CHARS or sentence.endswith(("？", "?")) or _OTHERS_VIEW.search(sentence):
            continue
        grams = set(cjk_bigrams(sentence))
        share = len(wanted & grams) / len(wanted) if wanted else 0.0
        key = (bool(_CONCLUDES.search(sentence)), share, i)
        if share >= GIST_SHARE and len(grams - wanted) >= GIST_NEW and (best is None or key >= best):
            best, chosen = key, (chunk, sentence)
    if chosen is not None:
        return chosen
    first = section.sentences[0] if section.sentences else None
    return first if first is not None and len(first[1]) <= _GIST_CHARS else None


def _subject(question: str, leave_out: Sequence[str] = ()) -> set[str]:
    """The bigrams of the question's subject: its content words less the words about the article
    itself or asking, and less ``leave_out`` (the names of the article and its author, a list's
    item word)."""
    for words in leave_out:
        if words:
            question = question.replace(words, " ")
    question = _ABOUT_PHRASES.sub(" ", re.sub(r"《[^》]*》", " ", question))
    terms = [t for t in content_terms(question) if len(t) >= 2 and not _ABOUT_TEXT.fullmatch(t)]
    return set(cjk_bigrams(" ".join(terms)))


def _fit(subject: set[str], text: str) -> float:
    """The share of the subject's bigrams ``text`` holds (1.0 without a subject). Counted, not
    weighted by IDF: in a short question a rare generic word (作用) would outweigh the subject (元宇宙)."""
    return len(subject & set(cjk_bigrams(text))) / len(subject) if subject else 1.0


def is_closing(heading: str) -> bool:
    """Whether a top-level heading is the closing words (结语, 总结, 写在最后 …)."""
    return bool(_CLOSING.search(heading))


def asks_what_it_says(text: str) -> bool:
    """Whether ``text`` asks what an article says as a whole (「讲了什么」「主要观点」「分几个部分」)."""
    return bool(_ASKS_OUTLINE.search(text))


def asks_outline(question: str, named: Sequence[tuple[str, str]], meta: Callable[[str], ArticleMeta]) -> bool:
    """Whether ``question`` asks what the one article it names says as a whole (主要讲了什么, 核心观点,
    分几个部分 …) on no subject beyond its title: a question about the library, never off topic,
    whether or not the article has headings to answer from."""
    if len(named) != 1 or not _ASKS_OUTLINE.search(question):
        return False
    article = meta(named[0][0])
    return _fit(_subject(question, [*(words for _, words in named), article.author or ""]), article.title) >= OUTLINE_FIT


def outline_answer(question: str, named: Sequence[tuple[str, str]], retrieved: Sequence[str],
                   sections_of: Callable[[str], Sequence[Section]], meta: Callable[[str], ArticleMeta]) -> Extract | None:
    """The answer from headings, or None when the question does not ask for an outline or a list
    the headings hold.

    ``named``: the articles the question names, with the words that name them; ``retrieved``: the
    articles of its passages, best first; ``sections_of``: an article's ``outline``. An article
    named alone, asked for its outline on no subject beyond its title, answers with its top-level
    sections (and each one's gist when the question asks what each says); a list question answers
    with the sub-headings of a named or retrieved article's heading that counts the list's items
    (「哪几个突破口」 → 「…的四个突破口」), each with its gist; a named article's N-th part asked for as a
    whole (「…的第二个小标题是什么？」) with that part and its gist; a quoted word a list question asks
    for (「提出了哪几个“绝非”？」) with the headings that hold it.
    """
    names = [words for _, words in named]
    words = _list_words(question)
    for article_id in dict.fromkeys([key for key, _ in named] or list(retrieved)):
        found = _list_under_heading(question, words, sections_of(article_id), meta(article_id), names) if words else None
        if found is not None:
            parent, items = found
            return _items_of(parent, items, meta)
    nth = _NTH_PART.search(question)
    if nth is not None and len(named) == 1:
        # 「《…》的第二个小标题是什么？」「《…》第三部分讲了什么？」: that part, with its gist.
        top = [s for s in sections_of(named[0][0]) if s.level == 0]
        n = chinese_number(nth.group(1))
        if 0 < n <= len(top):
            lines, cited = _with_gists([top[n - 1]], meta)
            title = meta(named[0][0]).title
            return Extract(f"《{title}》的第{nth.group(1)}部分是：{lines[0]}", cited)
    m = _QUOTED_LIST.search(question)
    quoted = m.group(1) if m else ""
    for article_id in [key for key, _ in named][:1] if quoted else []:
        holding = [s for s in sections_of(article_id) if quoted in s.heading]
        if len(holding) >= 2:
            lines, cited = _with_gists(holding, meta)
            count = _CHINESE_COUNT[len(holding)] if len(holding) < len(_CHINESE_COUNT) else str(len(holding))
            lead = f"《{meta(article_id).title}》的小标题中有{count}个“{quoted}”"
            return Extract(f"{lead}：\n" + "\n".join(lines), cited)
    if words and not named and retrieved:
        found_parts = _parallel_parts(question, words, sections_of(retrieved[0]))
        if found_parts is not None:
            sections, closing = found_parts
            return _sections_of(meta(retrieved[0]).title, sections, closing, meta, True)
    if not asks_outline(question, named, meta):
        return None
    article = meta(named[0][0])
    top = [s for s in sections_of(article.article_id) if s.level == 0]
    closing = top[-1] if top and _CLOSING.search(top[-1].heading) else None
    sections = top[:-1] if closing is not None else top
    if len(sections) < 2:
        return None
    return _sections_of(article.title, sections, closing, meta, bool(_ASKS_EACH.search(question)))


# Verbs that relate a list question's subjects and name none (「元宇宙给产业互联网带来了哪些改变？」).
_RELATING = frozenset({"带来", "起到", "产生", "发挥", "具有", "存在", "造成", "给予"})


def _parallel_parts(question: str, words: Sequence[str], sections: Sequence[Section]
                    ) -> tuple[list[Section], Section | None] | None:
    """The top-level parts of an article that each state what a list question asks of its two or
    more subjects (「元宇宙对产业互联网有哪些作用？」: 「元宇宙让产业互联网得到了复现」「…不再是假想」…,
    every heading naming both 元宇宙 and 产业互联网), with the closing part; None otherwise."""
    subjects = [t for t in dict.fromkeys(topic_words(question))
                if len(t) >= 2 and t not in words and t not in _RELATING and not _ABOUT_TEXT.fullmatch(t)]
    top = [s for s in sections if s.level == 0]
    closing = top[-1] if top and _CLOSING.search(top[-1].heading) else None
    parts = top[:-1] if closing is not None else top
    if len(subjects) < 2 or len(parts) < 2 or not all(t in p.heading for p in parts for t in subjects):
        return None
    return parts, closing


def _list_words(question: str) -> list[str]:
    """The words that may name a list question's items: the one after the question word
    (「有哪几个突破口」 → 突破口) and the one before it (「突破口有哪些」)."""
    out: list[str] = []
    for m in _ASKS_LIST.finditer(question):
        after = [w for w in topic_words(question[m.end() :]) if not _ABOUT_TEXT.fullmatch(w)]
        if after and len(after[0]) >= 2 and question[m.end() :].startswith(after[0]):
            out.append(after[0])
    for m in _BEFORE_LIST.finditer(question):
        before = [w for w in topic_words(question[: m.start()]) if not _ABOUT_TEXT.fullmatch(w)]
        if before and len(before[-1]) >= 2 and question[: m.start()].endswith(before[-1]):
            out.append(before[-1])
    for m in _COUNTED_ASKED.finditer(question):
        out.append(m.group(1))
    for m in _WHAT_EFFECT.finditer(question):
        out.append(m.group(1))
    return list(dict.fromkeys(out))


def _counts(heading: str, word: str) -> bool:
    """Whether a heading announces a number of ``word`` (「…的四个突破口」) or ends with it."""
    counted = rf"[一二两三四五六七八九十几\d]+\s*(?:个|点|种|条|项|大|类)?\s*{re.escape(word)}"
    return bool(re.search(counted, heading)) or _unnumbered(heading).endswith(word)


def _list_under_heading(question: str, words: Sequence[str], sections: Sequence[Section], article: ArticleMeta,
                        names: Sequence[str]) -> tuple[Section, list[Section]] | None:
    """The article's first heading that counts one of the list words and whose title and heading
    hold the question's subject, with the two or more sections under it."""
    for i, s in enumerate(sections):
        for word in words:
            if not _counts(s.heading, word):
                continue
            items = _children(sections, i)
            subject = _subject(question, [*names, article.author or "", word])
            if len(items) >= 2 and _fit(subject, article.title + s.heading) >= LIST_FIT:
                return s, items
    return None


def _cite(n: int, chunk: Chunk, meta: Callable[[str], ArticleMeta]) -> Citation:
    return Citation.from_hit(n, Hit(rank=0, score=0.0, chunk=chunk, article=meta(chunk.article_id)))


def _with_gists(sections: Sequence[Section], meta: Callable[[str], ArticleMeta]) -> tuple[list[str], tuple[Citation, ...]]:
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
        lines, cited = _with_gists([*sections, closing] if closing is not None else sections, meta)
        lead = f"《{title}》分为{count}个部分" + ("，最后是结语" if closing is not None else "")
        return Extract(f"{lead}：\n" + "\n".join(lines), cited)
    parts = [f"{s.heading}[{n}]" for n, s in enumerate(sections, 1)]
    # A section cites the passage of its first sentence (an unnumbered heading can end a chunk).
    citations = [_cite(n, s.sentences[0][0] if s.sentences else s.chunk, meta) for n, s in enumerate(sections, 1)]
    if closing is not None:
        gist = _gist(closing)
        n = len(sections) + 1
        parts.append(f"最后是结语：{gist[1].rstrip('。')}[{n}]" if gist else f"最后是{_unnumbered(closing.heading)}[{n}]")
        citations.append(_cite(n, gist[0] if gist else closing.chunk, meta))
    return Extract(f"《{title}》分为{count}个部分：" + "；".join(parts) + "。", tuple(citations))


def _items_of(parent: Section, items: Sequence[Section], meta: Callable[[str], ArticleMeta]) -> Extract:
    """The parent heading, then one line per item: its heading and its gist, cited."""
    lines, cited = _with_gists(items, meta)
    return Extract(f"{_unnumbered(parent.heading)}：\n" + "\n".join(lines), cited)


# What an article without headings argues: its first statement and the sentences that say the author's
# view (笔者认为 / 我认为 / 笔者更多地看到 / 归根结底 / 才能真正 / 所谓…而是…), up to THESES of them.
_THESIS = re.compile(r"笔者认为|我认为|笔者更多地看到|总的来看|归根结底|才能真正|所谓的[^。]{0,60}而是")
THESES = 3


def theses_answer(chunks: Sequence[Chunk], meta: ArticleMeta) -> Extract | None:
    """「总结一下《…》」「《…》讲了什么？」 for an article without headings (fresh-user probe 23: its
    closing lines only): its first statement, then the sentences that state its view, in its order,
    each cited to its passage; None when it has none."""
    said: list[tuple[Chunk, str]] = []
    for chunk in chunks:
        for c in candidates([chunk.text], [chunk.heading]):
            if c.heading or not Reader._quotable_extra(c) or any(c.text == t for _, t in said):
                continue
            if not said or (_THESIS.search(c.text) and not leans_back(c.text)):
                said.append((chunk, c.text))
    said = said[:THESES]
    if not said:
        return None
    lines = [f"{n}. {text}[{n}]" for n, (_, text) in enumerate(said, 1)]
    cited = tuple(Citation.from_hit(n, Hit(rank=0, score=0.0, chunk=chunk, article=meta))
                  for n, (chunk, _) in enumerate(said, 1))
    return Extract(f"《{meta.title}》没有分节的小标题，它的主要观点：\n" + "\n".join(lines), cited)


# Words that ask where in an article (rag.answer.reader.asked_place), and what the text there does
# (「开篇提出了什么问题？」「结尾表达了什么观点？」「开头引用了谁的话？」): not a subject of the question.
_PLACE_WORDS = re.compile(r"开头|开篇|篇首|文首|首段|第一段|一开始|结尾|末尾|文末|篇末|末段|最后一(?:段|部分)|最后"
                          r"|问题|观点|看法|主张|呼吁|结论|表达|引用|的话|谁")
# What the opening or the close of an article says: this many of its sentences, within this length.
PLACE_SENTENCES = 3
PLACE_CHARS = 200


def place_answer(question: str, names: Sequence[str], hits: Sequence[Hit], place: str,
                 idf: Callable[[str], float]) -> Extract | None:
    """What an article says at the place a question asks about (「《…》开头是怎么说的？」「…最后一段说了
    什么？」「…开头提到了哪两个风口？」; ``hits``: the passage there of each article asked about, ``names``:
    the words naming them; ``place``: "start" or "end"): a run of its sentences in the article's order,
    up to ``PLACE_SENTENCES`` within ``PLACE_CHARS``, without the editor's lead, bylines or headings.
    The run starts at the passage's first sentence (for "end": ends at its last), or, when the question
    has a subject, at the first one holding at least half as much of it (by ``idf``) as the sentence
    holding most, and goes on in the article's order (the passage is the place asked about). Each
    article's run after its title when several are asked. None when the passages hold none of the subject (「文末“给作者打赏”
    那个按钮…多少钱？」). The reader's best sentence of the passage was often not at the place asked
    about (the sentence vector of an objection further on outweighed 「元宇宙的热度还未彻底散去,ChatGPT
    已经成为了…新风口。」)."""
    subject = _subject(_PLACE_WORDS.sub(" ", question), names)
    weight = {g: idf(g) for g in subject}
    parts: list[str] = []
    citations: list[Citation] = []
    for hit in hits:
        said = [c.text for c in body_sentences(hit.chunk.text, hit.chunk.heading)]
        shares = [sum(weight[g] for g in subject.intersection(cjk_bigrams(s))) for s in said]
        most = max(shares, default=0.0)
        if subject and not most:
            continue
        if most:  # from the first sentence on the subject, on in the article's order
            run = _run(said[next(i for i, share in enumerate(shares) if share >= most / 2) :])
        else:  # the first sentences, or the last ones
            run = _run(said) if place == "start" else _run(said[::-1])[::-1]
        if not run:
            continue
        n = len(citations) + 1
        title = f"《{hit.article.title}》：" if len(hits) > 1 else ""
        parts.append(title + "".join(f"{quote(s)}[{n}]" for s in run))
        citations.append(Citation.from_hit(n, hit))
    return Extract("\n".join(parts), tuple(citations)) if parts else None


def _run(sentences: Sequence[str]) -> list[str]:
    """The first of ``sentences``, up to ``PLACE_SENTENCES`` within ``PLACE_CHARS`` (one at least)."""
    run: list[str] = []
    for s in sentences:
        if run and (len(run) >= PLACE_SENTENCES or sum(map(len, run)) + len(s) > PLACE_CHARS):
            break
        run.append(s)
    return run
