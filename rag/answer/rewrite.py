"""Follow-up questions → standalone retrieval queries (rule-based fallback for the LLM rewrite)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.text import (
    ASKED_PER_CENT,
    ASKS_EXAMPLE,
    ASPECT_WORDS,
    BASELINE,
    CHANGE_WORDS,
    SEQUENCE_OPENER,
    STOPWORDS,
    TITLE_REF,
    chinese_number,
    content_terms,
    cut,
    mentioned_word,
    person_names,
    subject_word,
    topic_words,
)
from rag.types import Message

# Words that point back to something said before. 他/它 not after 其 ("其他/其它" = "other").
_ANAPHORA = re.compile(
    r"^(?:那|那么|那它|还有|另外|此外|然后|接着|再|具体|为什么呢|怎么说)|"
    # A verb with no subject (「用的是哪家公司的引擎？」 after 「宝马在沈阳的工厂叫什么？」).
    r"^(?:用的是|靠的是|采用的是|(?:用|靠|采用)的(?:什么|哪))|"
    r"它们|他们|她们|这个|那个|这些|那些|这种|那种|这一|该文|上述|前者|后者|其中|这篇|那篇|此文|两者|二者|这两个|它俩|这俩|"
    r"(?<!其)[他她它]"
)
# "X呢？" asks "and what about X?" of the previous question.
_ELLIPSIS = re.compile(r"呢\s*[？?]?\s*$")
# Nouns that name an aspect of a topic, not a topic: "有什么区别？" needs the previous question.
_ASPECTS = ASPECT_WORDS
# Previous user turns a rewrite may chain back through to reach a standalone question.
_MAX_CHAIN = 3
# "它" / "它们" stand for the subject of the question before ("那它和元宇宙有什么关系？").
_PRONOUN = re.compile(r"(?<!其)它们?")
# Words that point at an article ("这篇文章主要讲了什么？"): they stand for the 《title》 asked about before.
_THIS_ARTICLE = re.compile(r"[这那]篇(?:文章)?|该文|此文|本文")
# ... and so does 它 after a question that named one, when the follow-up asks about an article
# itself ("它分几个部分？", "它的作者是谁？"), not about a subject ("它和元宇宙有什么关系？").
_ABOUT_AN_ARTICLE = re.compile(r"作者|发表|发布|谁写|写的|(?:哪天|哪年|何时|什么时候)发|几个?部分|几节|小标题|"
                               r"主要(?:讲|说|内容|观点)|讲了(?:什么|哪些)|核心观点|中心思想|结语|开头|结尾")


# 「第二点展开说说」「第三个突破口是什么？」「最后一点」: an item of the answer before.
_ORDINAL = re.compile(r"第\s*([一二两三四五六七八九十]{1,3}|\d{1,2})\s*(?:点|个|条|部分|句话?|项|种|方面|段|步|层)|"
                      r"(最后)一?(?:点|个|条|部分|句话?|项|种|方面|段|步)")
_TWO_CJK = re.compile(r"[\u4e00-\u9fff]{2}")
# ... or with what it says after a colon (「1. 《…》（孟永辉）：…元宇宙让产业互联网得到了释放。[1]」).
_LISTED_TITLE = re.compile(r"《([^》]{1,80})》(?:（[^（）]{0,40}）)?(?:：[^\n《》]*?)?\[\d+\]")
# 「第一篇」「最后一篇」: an article of a list of articles (``_article_asked``).
_NTH_ARTICLE = re.compile(r"第\s*([一二两三四五六七八九十]{1,3}|\d{1,2})\s*篇|(最后)一篇")
# Asking something of the item (「第一点为什么重要？」), not only for it.
_ASKS_OF_IT = re.compile(r"为什么|为何|怎么|如何|怎样|哪")


# An answer's items: numbered lines (「1. …」「一、…」「（1）…」), items numbered inline (「一、…；二、…」),
# else its sentences (each ends with its [n]).
_NUMBERED_LINE = re.compile(r"^\s*(?:\d{1,2}[.、．)](?!\d)|[一二三四五六七八九十]+、|[（(]\d{1,2}[)）])\s*(.+)$",
                            re.MULTILINE)
# Inline items open a text or follow a stop (「…部分：一、…；二、…」), not inside a word (统一、 之一、).
_INLINE_ITEM = re.compile(r"(?:^|(?<=[：:；;。，,]))[一二三四五六七八九十]+、([^；;。]+)")
# What an answer quotes before each marker: a sentence, or a quotation of several (「…所说，“…。…。”[1]」).
_CITED_SENTENCE = re.compile(r"[^\n\]]+?(?:\[\d+\])+")
# How a yes-or-no answer opens (rag.engine: ``Engine._verdict``), not part of the sentence it quotes.
VERDICT_TEXT = {True: "是的。", False: "不是。"}
PREMISE_DENIED_TEXT = "文章并不是这样说的。《{}》说："
_VERDICT_LEAD = re.compile("^(?:是的。|不是。|" + re.escape(PREMISE_DENIED_TEXT).replace(re.escape("{}"), "[^》]*") + ")")
_MARKERS = re.compile(r"\[\d+\]")
_WORDY = re.compile(r"\w\w")  # an item says something (not 「……[1]」)


def _numbered(answer: str) -> bool:
    """Whether an answer lists numbered items (two or more)."""
    return len(_NUMBERED_LINE.findall(answer)) >= 2 or len(_INLINE_ITEM.findall(answer)) >= 2


def _listing(answer: str) -> bool:
    """Whether an answer's items are a list's: numbered, or sentences that say their place (首先/其次…)."""
    return _numbered(answer) or sum(bool(SEQUENCE_OPENER.match(t)) for t in _items(answer, sentences=True)) >= 2


def names_item(question: str) -> bool:
    """Whether a follow-up names an item of the answer before by its place (「第二点」「最后一个」)."""
    return bool(_ORDINAL.search(question))


def _items(answer: str, sentences: bool = False, place: int | None = None) -> list[str]:
    """The items of an answer, markers removed: its numbered items, else the sentences that open
    with a place in a sequence (首先/其次/再次…) when two or more do (not when ``sentences`` are
    asked for: 「第二句话」, nor when the ``place`` asked is past them), else its sentences."""
    numbered = [found for found in (_NUMBERED_LINE.findall(answer), _INLINE_ITEM.findall(answer)) if len(found) >= 2]
    found = numbered[0] if numbered else [m.group() for m in _CITED_SENTENCE.finditer(answer)]
    items = [t for t in (_MARKERS.sub("", x).strip(" ；;，,") for x in found) if _WORDY.search(t)]
    if not numbered and not sentences:
        # 「相对于C端…。首先，…。其次，…。再次，…。」: 「第三点呢？」 asks for the 再次 sentence.
        sequence = [t for t in items if SEQUENCE_OPENER.match(t)]
        if len(sequence) >= 2 and (place is None or place <= len(sequence)):
            return sequence
    return items


def _article_asked(question: str, history: Sequence[Message], names: Sequence[str] = ()) -> str | None:
    """「第一篇讲了什么？」「最后一篇呢？」「那第二篇的作者呢？」 after an answer that lists articles
    (「孟永辉写了哪些文章？」), also after one of them was answered: that article, asked what the
    question asks (what it says, when it names nothing else). Fresh-user probe 17: 「第一篇」 was read
    as a typo, 「第一片」. None without such a list, or past its end."""
    m = _NTH_ARTICLE.search(question)
    if m is None:
        return None
    # The titles an answer lists as articles, each cited (「…有 3 篇：《A》[1]、《B》[2]…」), not a title
    # inside a quoted sentence (「…发布了《中国产业互联网发展报告（2021）》…」) nor an outline's head.
    listed = (list(dict.fromkeys(_LISTED_TITLE.findall(x.content))) for x in reversed(history) if x.role == "assistant")
    titles = next((t for t in listed if t), None)
    if titles is None or any(n in question for n in names):
        return None  # 「元宇宙少女的第一篇文章是什么？」 asks of another list
    n = len(titles) if m.group(2) else chinese_number(m.group(1))
    if not 0 < n <= len(titles):
        return None
    rest = re.sub(r"^[\s，,]*(?:那么?|还有)?\s*", "", question[: m.start()] + question[m.end():]).strip()
    if not _TWO_CJK.search(rest.strip("？?，,。呢")):
        return f"《{titles[n - 1]}》主要讲了什么？"
    asked = re.sub(r"\s*呢\s*[？?]?$", "", rest)
    if asked != rest:  # 「那第二篇的作者呢？」: asked as a question of its own
        asked += "是谁？" if asked.endswith("作者") else "是什么？"
    return f"《{titles[n - 1]}》{asked}"


def _item_asked(question: str, history: Sequence[Message]) -> str | None:
    """The item of the last answer a follow-up asks about (「第二点展开说说」 → the answer's second
    item; 「第一点为什么重要？」 → the first item and the question asked of it), if it names one by its
    place and, unless it asks why or how of it, nothing the conversation has not mentioned."""
    m = _ORDINAL.search(question)
    answers = [x.content for x in history if x.role == "assistant" and x.content.strip()]
    if m is None or not answers:
        return None
    said = "".join(x.content for x in history[-2:])
    rest = question[: m.start()] + question[m.end() :]
    if not _ASKS_OF_IT.search(rest) and any(
            t not in said for t in content_terms(rest) if len(t) >= 2 and t not in _ASPECTS):
        return None  # 「产业互联网的第二个阶段是什么？」 asks something new
    place = None if m.group(2) else chinese_number(m.group(1))  # None: the last
    named, asked_before = _named_items(history)
    if named and "句" not in m.group(0):
        if _which_of_them(question):  # 「哪个是第一步？」 asks which of them (not 「第一部分和哪个行业有关？」)
            return "和".join(named) + "，" + question.strip()
        n = len(named) if place is None else place
        own = rest.strip(" ？?，,。")
        if own in ("", "呢", "那", "那呢"):  # 「第二部分呢？」 after 「第一部分靠什么？」
            own = asked_before
        if 0 < n <= len(named):
            return f"{named[n - 1]}{own}" + ("？" if own else "")
    items = _items(answers[-1], "句" in m.group(0), place)
    if "句" not in m.group(0) and not _listing(answers[-1]):
        # 「第一点展开说说」 (or 「那第一点呢？」「展开说说」「还有呢？」) then 「第四个展开说说」: the items are
        # the list's, not the expansion's sentences; not after 「…第二部分讲了什么？」, a question of its
        # own, nor for 「第一句话…」.
        for x in reversed(history):
            if x.role == "assistant" and _listing(x.content):
                items = _items(x.content, place=place)
                break
            if x.role == "user" and not (asks_to_expand(x.content) or lacks_topic(x.content)):
                break
    n = len(items) if place is None else place
    if not 0 < n <= len(items):
        return None
    return f"{items[n - 1]} {rest.strip()}" if _ASKS_OF_IT.search(rest) else items[n - 1]


# 「产业互联网主要包括哪两部分？」: a question asking for so many parts (or which ones), and the
# sentence that names them (「产业互联网主要包括产业数字化和数字产业化，…」): 「第一部分靠什么？」 asks
# 「产业数字化靠什么？」, not of the answer's first sentence.
_ASKS_PARTS = re.compile(r"哪([两二三四五六七八九十几])(?:个|部分|种|类|方面|块|点)|(?:分为|分成|包括|包含)(?:哪些|哪几)")
_NAMES_PARTS = re.compile(r"(?:包括|包含|分为|分成|分别是|主要有|即)[：:]?\s*([^，,。；;：:！？!?]{2,60})")
_COORDINATED = re.compile(r"\s*(?:、|和|与|及|以及|跟)\s*")


def _named_items(history: Sequence[Message]) -> tuple[list[str], str]:
    """The parts an answer names for a question that asked for them (「哪两部分？」 → 产业数字化,
    数字产业化): as many as it asked for (any number of two or more for 「哪几」「哪些」), or none;
    the question may be followed by questions on its parts by their place (「第一部分靠什么？」), and
    then what the last of them asked of its part (「靠什么」), for 「第二部分呢？」."""
    turns = [x for x in history if x.content.strip()]
    asked_before = ""
    for i in range(len(turns) - 1, 0, -2):
        if turns[i].role != "assistant" or turns[i - 1].role != "user":
            return [], ""
        question = turns[i - 1].content
        asked = _ASKS_PARTS.search(question)
        if asked is None:
            m = _ORDINAL.search(question)
            if m is None:
                return [], ""
            asked_before = asked_before or (question[: m.start()] + question[m.end():]).strip(" ？?，,。")
            continue
        wanted = 0 if asked.group(1) in (None, "几") else chinese_number(asked.group(1))
        for m in _NAMES_PARTS.finditer(_MARKERS.sub("", turns[i].content)):
            items = [t.strip() for t in _COORDINATED.split(m.group(1)) if t.strip()]
            if len(items) >= 2 and all(2 <= len(t) <= 12 for t in items) and (not wanted or len(items) == wanted):
                return items, asked_before
        return [], ""
    return [], ""


# 「展开说说」「详细一点」「还有呢？」「能多说一些吗？」: more of the answer before, on nothing new.
# 「换个说法解释一下」「通俗点说呢？」: the same said otherwise, which the articles' other sentences on it do
# (fresh-user probe 28: refused, the words read as a topic).
_REPHRASE = re.compile(r"换(?:个|种|一种|一个)?(?:说法|方式|角度)(?:说|讲|解释)?|通俗(?:一?点|些|地|易懂)?(?:说|讲|解释)?"
                       r"|简单(?:一?点|些)(?:说|讲|解释)?|(?:再)?解释(?:一下|下)|说得?(?:明白|清楚)(?:一?点|些)|大白话|白话")
_MORE = re.compile(r"展开|详细|具体(?:说|讲|谈|点|些)|多说|多讲|再说|再讲|继续|还有(?:呢|吗|什么|别的|其他)|补充|深入|"
                   + _REPHRASE.pattern)


# 「为什么？」「为啥呢？」「原因是什么？」 after an answer: why what it says holds.
_WHY_OF_IT = re.compile(r"^(?:那|那么|可是|但是|但)?[，,\s]*(?:这是)?(?:为什么|为啥|为何|凭什么|何以见得|怎么说|原因(?:是什么|何在|呢)?|理由(?:是什么|呢)?"
                        r"|依据(?:是什么|呢)?|有什么(?:依据|理由|根据))(?:呢|啊|呀)?[？?！!。\s]*$")


_ASKED_WHY = re.compile(r"为什么|为啥|为何|原因|何以")
# ... nor after a question asking a figure or a detail (「作者混产业互联网几年了？」: not 「为什么今年是我混产业
# 互联网的第8年？」, a reviewer's finding).
_ASKED_DETAIL = re.compile(r"几|多少|哪一?年|什么时候|何时|谁|哪家|哪位|叫什么|名字")


# 「作者对此什么态度？」「作者想借此说明什么？」 after an answer: what the writer makes of what it quoted.
_OF_THE_SAID = re.compile(r"对此|因此|借此|由此|据此|以此|这(?:个|一)?(?:数据|例子|比喻|说法|对比|差距|现象)")
_ASKS_STANCE = re.compile(r"态度|看法|观点|结论|怎么看|如何看|(?:想|要)?(?:说明|表达|证明)(?:了)?(?:什么|啥)|得出|怎么说")


def asks_stance_on_answer(question: str) -> bool:
    """Whether a follow-up asks what the writer makes of what the answer before quoted (「作者对此什么
    态度？」 after 「中美人均GDP差多少？」: fresh-user probe 30, answered from other passages), naming
    nothing else."""
    rest = _ASKS_STANCE.sub(" ", _OF_THE_SAID.sub(" ", question))
    return bool(_OF_THE_SAID.search(question)) and bool(_ASKS_STANCE.search(question)) and lacks_topic(rest)


def asks_why_of_answer(question: str) -> bool:
    """Whether a follow-up asks only why the answer before holds (「为什么？」 got that answer again:
    fresh-user probe 23)."""
    return bool(_WHY_OF_IT.match(question.strip()))


# What no claim opens with: a heading's number (「三、…」「1. …」), a byline, what someone might say.
_NO_CLAIM = re.compile(r"^(?:[一二三四五六七八九十]+、|\d{1,2}[.、．]|[（(]\d{1,2}[)）])|作者[：:]|微信公众号|本文来自|(?:可能|也许)?有人(?:会)?说")


def _claim(answer: str) -> str | None:
    """The first sentence an answer quoted that says something of its own (not a heading, a byline
    or what someone might say: a reviewer's finding), markers and end marks removed."""
    for quoted in quoted_sentences(answer):
        claim = _LIST_NUMBER.sub("", quoted).rstrip("。！？!?")
        if "：" in claim[:40] and _NO_CLAIM.search(claim):
            claim = claim.split("：", 1)[1]  # 「一、…：只有真正…」: the sentence after its heading
        if _WORDY.search(claim) and "\n" not in claim and not _NO_CLAIM.search(claim):
            return claim
    return None


# A list line's number (「1. 所谓的产业互联网…」): the item is a claim of its own.
_LIST_NUMBER = re.compile(r"^\d{1,2}[.．]\s*")


def without_expansion(query: str) -> str:
    """A query without the words that ask for more (「黄奇帆说了什么？ 展开说说」 → its topic)."""
    return _MORE.sub(" ", query)


def asks_for_more(question: str) -> bool:
    """Whether a follow-up asks for more of the answer before and names nothing new (not
    「第二点展开说说」, an item, nor 「展开说说数字孪生」, a topic)."""
    return asks_to_expand(question) and not _ORDINAL.search(question)


_WHAT_TO_DO = re.compile(r"怎么办|怎么做|该怎么|如何做|如何应对|如何解决|怎么解决|有什么办法|有何对策|出路在哪")


def asks_what_to_do(question: str) -> bool:
    """Whether a question asks what to do (「消费互联网卷不动了怎么办？」「所以该怎么办？」)."""
    return bool(_WHAT_TO_DO.search(question))


def asks_to_expand(question: str) -> bool:
    """Whether a follow-up asks for more of the answer before or of one of its items (「展开说说」
    「第三个展开说说」), naming no topic: what that answer quoted is not quoted again."""
    return bool(_MORE.search(question)) and lacks_topic(question)


def quoted_sentences(answer: str) -> tuple[str, ...]:
    """The sentences an answer quoted, markers removed (each ends with its [n]), each once, in the
    answer's order (a set's order changed from one process to the next with the strings' hashes:
    「这是哪篇文章说的？」 listed the same answer's articles in either order)."""
    return tuple(dict.fromkeys(_MARKERS.sub("", m.group()).strip()
                               for m in _CITED_SENTENCE.finditer(_VERDICT_LEAD.sub("", answer.lstrip()))))


def needs_context(question: str) -> bool:
    """A follow-up that cannot stand alone: it points back (它/这个/那…), asks "X呢？", or names
    no topic of its own (only aspects such as 区别/原因, or nothing at all)."""
    return bool(_ANAPHORA.search(question) or _ELLIPSIS.search(question)) or lacks_topic(question) or _which_of_them(question)


def _which_of_them(question: str) -> bool:
    """A short 「哪个…」 question (「哪个更重要？」「哪个是第一步？」): which of what was asked before; not one
    naming a kind (「哪个是电商平台？」) or 「谁是黄奇帆？」 (a reviewer's findings)."""
    m = _WHICH_OF_THEM.match(question.strip())
    rest = question.strip()[m.end():].strip(" ？?。！!") if m else ""
    return m is not None and (len(rest) <= 3 or bool(_ORDINAL.match(rest)))


# The answer to a question with no topic of its own and nothing before it to take one from.
NO_TOPIC_TEXT = ("这个问题没有说明要问的是什么。请把问题说完整（例如「产业互联网为什么需要被正名？」），"
                 "或者在一次对话中接着上一个问题追问。")


# 「出自哪篇文章？」「出处是哪里？」「这是哪篇文章说的？」: where the answer before comes from.
_SOURCE = re.compile(r"出自|出处|来源|引自|哪(?:一|几)?篇(?:文章)?(?:里)?(?:说|讲|写|提)的"
                     # 「这是谁的观点？」 after an answer: whose articles it quotes (fresh-user probe 24).
                     r"|谁的(?:观点|说法|看法|话)|谁(?:说|提出|写)的")


def asks_for_source(question: str) -> bool:
    """Whether a follow-up asks which articles the answer before quotes, naming nothing else (its
    asking words left out: 提出 of 「这个观点是谁提出的？」 is no topic)."""
    return bool(_SOURCE.search(question)) and lacks_topic(_SOURCE.sub(" ", question))


# The answer to 「还有呢？」 when the passages it reads were all quoted in the answers before.
ALL_SAID_TEXT = "关于这一点，资料中的相关内容上面已经都引用了。可以换个角度继续问，例如它的原因、影响，或另一篇文章怎么说。"


def lacks_topic(question: str) -> bool:
    """Whether a question names nothing to ask about (「为什么？」「有什么区别？」「第二点展开说说」):
    only a follow-up can mean something by it."""
    return not _own_terms(question)


def new_words(question: str, before: str) -> list[str]:
    """The words a follow-up names of its own that the questions ``before`` it do not (lower-cased)."""
    return [t for t in _own_terms(_OPENING_NA.sub("", question)) if t not in before.lower()]


# 「那有什么影响？」: jieba reads 那有, 那该, 那会 as words.
_OPENING_NA = re.compile(r"^(?:那么|那)")


def _own_terms(question: str) -> list[str]:
    """The words a question names of its own: not an item's place (「第二点」) nor an aspect of what
    was asked before (区别, 原因, 出自, 具体 …)."""
    # 「比上年涨了多少？」「增长了百分之几？」: how much the figure asked before grew.
    text = _REPHRASE.sub(" ", _THIS_SAYING.sub(" ", ASKED_PER_CENT.sub(" ", BASELINE.sub(" ", _ORDINAL.sub(" ", question)))))
    return [t for t in content_terms(text) if len(t) >= 2 and t not in _ASPECTS and t not in CHANGE_WORDS]


# 「这句话」「这段话」「这个说法」: what the answer before said, no topic of its own (fresh-user probe 24:
# 「这句话出自哪篇文章？」 was searched as words and refused).
_THIS_SAYING = re.compile(r"[这那](?:一)?(?:句|段|个|种)?(?:话|说法|观点|论断|论述|判断)")


def rule_rewrite(question: str, history: Sequence[Message], title_of: Callable[[str], str | None] | None = None,
                 cited_by: Callable[[str], str | None] | None = None, names: Sequence[str] = ()) -> str:
    """Prefix a dependent follow-up with the user's questions back to the last standalone one.

    "Web3意味着什么？" → "它有哪些突破口？" → "具体说说第一个？" keeps Web3 in the third query; a
    follow-up about an item or an article of the answer before is resolved by ``resolved_reference``.
    """
    chain = _chain(question, history)
    resolved = _resolved(question, history, chain, title_of, cited_by, names)
    if resolved is not None:
        return resolved
    if not chain:
        return question
    subject = _subject(chain[0])
    pronoun = _PRONOUN.search(question)
    if subject and pronoun:
        # "产业互联网的主战场在哪里？" → "那它和元宇宙有什么关系？" becomes "那产业互联网和元宇宙有什么
        # 关系？": the pronoun names the earlier subject, and the rest of the earlier question
        # (主战场) is not asked again, or it would outweigh what is new (元宇宙).
        # ... the subject of a 「那X呢？」 since, X: 「元宇宙对产业互联网有什么作用？」「那ChatGPT呢？」「它有什么
        # 特点？」 asks of ChatGPT; 「它们有什么共同点？」 of 元宇宙和ChatGPT (fresh-user probe 29: of 元宇宙).
        others = [x for x in (_what_about(t) for t in chain[1:]) if x and x != subject]
        if others:
            subject = "和".join(dict.fromkeys([subject, *others])) if pronoun.group() == "它们" else others[-1]
        return _PRONOUN.sub(subject, question, count=1)
    return " ".join([*chain, question])


def _chain(question: str, history: Sequence[Message]) -> list[str]:
    """The user's questions back to the last standalone one, for a follow-up that needs them; none
    for a question that stands alone."""
    previous = [(i, m.content.strip()) for i, m in enumerate(history) if m.role == "user" and m.content.strip()]
    if not previous or not needs_context(question):
        return []
    chain: list[str] = []
    for i, turn in reversed(previous[-_MAX_CHAIN:]):
        if not needs_context(turn) and not _names_a_place_only(turn):
            chain.insert(0, turn)
            break
        if asks_for_source(turn) or (i + 1 < len(history) and history[i + 1].role == "assistant"
                                     and not _MARKERS.search(history[i + 1].content)):
            # A follow-up the articles did not answer (「这个数据的来源是什么？」) is no part of what a later
            # one refers to (「作者想用这个说明什么？」: fresh-user probe 23), nor one asking where the answer
            # came from (「出自哪篇文章？」 then 「展开说说」: a reviewer's finding).
            continue
        # A follow-up resolved as a question of its own (「那什么才是？」 → 「什么才是产业互联网的关键？」,
        # 「第三点呢？」 → that point) stands for the questions before it: 「为什么？」 asks why of it.
        resolved = _own_question(turn, history[:i])
        chain.insert(0, resolved or turn)
        if resolved:
            break
    return chain


def _names_a_place_only(turn: str) -> bool:
    """「第二篇讲了什么」: an earlier turn that names only an article's place in a list, so a later
    「那元宇宙少女呢」 goes back past it to the question that listed them."""
    return bool(_NTH_ARTICLE.search(turn)) and lacks_topic(_NTH_ARTICLE.sub(" ", turn))


def _own_question(turn: str, before: Sequence[Message]) -> str | None:
    """An earlier follow-up as the standalone question it was resolved to, when it asked of an
    item of the answer before or what is Y instead of X (not of an article, whose title the
    engine's lookups give)."""
    if _WHAT_INSTEAD.match(turn):  # (its chain read only then: every turn's would cost 2^turns)
        return _what_is_instead(turn, _chain(turn, before))
    return _item_asked(turn, before)


def resolved_reference(question: str, history: Sequence[Message], title_of: Callable[[str], str | None] | None = None,
                       cited_by: Callable[[str], str | None] | None = None, names: Sequence[str] = ()) -> str | None:
    """A follow-up that points at an item of the answer before (「第二点展开说说」) or at an article
    (「它的作者是谁？」「这篇文章是什么时候发表的？」「作者是谁？」), as a standalone question; None for
    any other. Exact where a small model's rewrite is not (the local 1.5B rewrote 「那它的作者是谁？」 as
    a statement about 元宇宙), so the engine takes it before asking a model.

    ``title_of``: the 《title》 of the article a question names otherwise (its title without 《》,
    「写…那篇文章」), if any. ``cited_by``: the 《title》 of the article the answer to a question
    cites first: what 「它的作者是谁？」「作者是谁？」 ask about after a question that named none.
    ``names``: the library's authors (「孟永辉呢？」 after a question about another author's view).
    Also 「那Y呢？」 and 「两者…」 after it (``_swapped``).
    """
    return _resolved(question, history, _chain(question, history), title_of, cited_by, names)


# 他/她 for a person (not 他们, 其他, 她们).
_PERSON = re.compile(r"(?<![其吉])[他她](?![们])")
# 「那消费互联网呢？」「孟永辉呢？」: the same question of something else.
_WHAT_ABOUT = re.compile(r"^(?:那么?|还有|那)?\s*([^，,。？?！!呢]{2,12}?)\s*呢\s*[？?]?\s*$")
# 「两者有什么区别？」 after 「X…？」「那Y呢？」: X and Y.
_BOTH = re.compile(r"两者|二者|这两个|它俩|这俩")


def what_about(question: str) -> str | None:
    """What a 「那X呢？」 follow-up names (``_what_about``), for the engine."""
    return _what_about(question)


def _what_about(question: str) -> str | None:
    """What a 「那X呢？」 follow-up names, when it is one topic (not 「那另一篇呢？」「为什么呢？」)."""
    m = _WHAT_ABOUT.match(question.strip())
    if m is None:
        return None
    named = m.group(1).strip()
    if _ORDINAL.search(named) or _NTH_ARTICLE.search(named):
        return None  # 「那第二点呢？」「那第三篇呢？」 name an item or an article of the answer before
    terms = [t for t in topic_words(named) if t not in STOPWORDS]
    if _ANAPHORA.search(named) or not terms or any(t in _ASPECTS for t in terms) or "".join(terms) != named:
        return None
    return named


# 「哪个是第一步？」「哪个更重要？」: which of the two things the conversation asked about.
_WHICH_OF_THEM = re.compile(r"^(?:那|那么)?[，,\s]*哪一?(?:个|部分|项)(?:才|更|先|又)?(?:是|更|先|在前|比较|重要|关键)")


def _which_of_both(question: str, chain: list[str]) -> str | None:
    """「哪个是第一步？」 after 「产业数字化是什么？」「那数字产业化呢？」 as the question of both
    (「产业数字化和数字产业化，哪个是第一步？」; fresh-user probe 23: read as the answer's first item)."""
    if len(chain) < 2 or not _which_of_them(question):
        return None
    first = _subject(chain[0])
    second = _what_about(chain[-1])
    if first and second and first != second:
        return f"{first}和{second}，{question.strip()}"
    return None


def _swapped(question: str, chain: list[str], names: Sequence[str]) -> str | None:
    """「那Y呢？」 as the question it follows with Y in place of what that one asked about
    (「元宇宙少女怎么看Web3？」 → 「孟永辉呢？」: 「孟永辉怎么看Web3？」; 「产业互联网的本质是什么？」 →
    「那消费互联网呢？」: 「消费互联网的本质是什么？」); 「两者有什么区别？」 after such a pair as the
    question about both (「产业互联网和消费互联网有什么区别？」)."""
    if not chain:
        return None
    base = chain[0]
    if _BOTH.search(question) and len(chain) >= 2:
        first = _subject(base)
        second = _what_about(chain[-1]) or _subject(chain[-1])
        if first and second and first != second:
            topic = subject_word(base, _ASPECTS | {n.lower() for n in names}) if first in names and second in names else None
            if topic and topic not in (first, second):
                # 「孟永辉怎么看平台？」「元宇宙少女呢？」「两者有什么区别？」: their views on it (fresh-user probe
                # 25: 「孟永辉和元宇宙少女有什么区别？」 asked about nothing and was refused).
                return _BOTH.sub(f"{first}和{second}对{topic}的看法", question, count=1)
            return _BOTH.sub(f"{first}和{second}", question, count=1)
        return None
    new = _what_about(question)
    if new is None or new in base:
        return None
    # An author in place of the author; else the question's subject, not the author it names
    # (「孟永辉怎么看元宇宙？」 → 「那么区块链呢？」: 「孟永辉怎么看区块链？」).
    old = next((n for n in names if n in base), None) if new in names else \
        mentioned_word(base) or subject_word(base, _ASPECTS | {n.lower() for n in names})
    return base.replace(old, new, 1) if old else None


def _resolved(question: str, history: Sequence[Message], chain: list[str],
              title_of: Callable[[str], str | None] | None, cited_by: Callable[[str], str | None] | None,
              names: Sequence[str] = ()) -> str | None:
    """``resolved_reference`` given the follow-up's ``chain`` (``_chain``)."""
    if asks_for_more(question):
        # 「展开说说」「还有呢？」 after a follow-up resolved here (「那第二点呢？」「那留量呢？」「第一篇讲了
        # 什么？」): more of what that one asked, not of the questions before it (fresh-user probe 17:
        # the list again).
        again = _more_of(history, names)
        if again is not None:
            return again
    if chain and ASKS_EXAMPLE.search(question) and lacks_topic(question):
        # 「举个例子」 after 「产业互联网是什么？」: an example of what was asked, exactly (the local 1.5B model
        # rewrote it as 「产业互联网如何重塑和改造…？」, the example asked for lost: session 19).
        return " ".join([*chain, question])
    if asks_why_of_answer(question) and not (chain and (_ASKED_WHY.search(chain[-1]) or _ASKED_DETAIL.search(chain[-1]))):
        # 「产业互联网的主战场在哪里？」 → 「为什么？」: why what the answer said holds (「为什么产业互联网的
        # 主战场…而在数量众多的「产业」上？」), not where again. After a why, more reasons for it.
        said = [m.content for m in history if m.role == "assistant"]
        claim = _claim(said[-1]) if said else None
        if claim:
            return f"为什么{claim}？"
    both = _which_of_both(question, chain)
    if both is not None:
        return both
    item = _article_asked(question, history, names) or _item_asked(question, history)
    if item is not None:
        return item
    swapped = _swapped(question, chain, names)
    if swapped is not None:
        return swapped
    instead = _what_is_instead(question, chain)
    if instead is not None:
        return instead
    person = _PERSON.search(question)
    if person is not None and names:
        # 「他还写过哪些文章？」 after 「…的作者是孟永辉。」: the author the conversation last named.
        turns = [m.content for m in history if m.content.strip()]
        author = next((n for text in reversed(turns[-2:]) for n in names if n in text), None)
        if author is not None:
            return question[: person.start()] + author + question[person.end() :]
    if person is not None:
        # 「他是什么身份？」 after 「黄奇帆说了什么？」: the person the user's question before named (a name
        # jieba's dictionary knows, or an author's; fresh-user probe 27: searched as both questions, and
        # refused), or the last of the three before that named one.
        asked = [m.content for m in history if m.role == "user" and m.content.strip()][-3:]
        people: set[str] = set()
        for text in reversed(asked):
            people = set(person_names(text)) | {n for n in names if n in text}
            if people:
                break
        if len(people) == 1:
            return question[: person.start()] + people.pop() + question[person.end() :]
    about_article = bool(_ABOUT_AN_ARTICLE.search(question))
    pointer = _THIS_ARTICLE if _THIS_ARTICLE.search(question) else (
        _PRONOUN if _PRONOUN.search(question) and about_article else None)
    # 「作者是谁？」「是什么时候发表的？」: about the article of the answer before, with no word for it.
    bare = pointer is None and about_article and not _PRONOUN.search(question)
    if not chain or not (pointer is not None or bare):
        return None
    quoted = TITLE_REF.search(chain[0])
    title = quoted.group(0) if quoted else title_of(chain[0]) if title_of is not None else None
    if title is None:
        # The article the previous answer named (a metadata or catalog answer: 「…最新的文章是《…》」),
        # else the one its answer cites first.
        said = [m.content for m in history if m.role == "assistant"]
        named = TITLE_REF.search(said[-1]) if said else None
        title = named.group(0) if named else cited_by(chain[0]) if cited_by is not None else None
    if title is None:
        return None
    if pointer is not None:
        # "《产业互联网需要被正名》的作者是谁？" → "这篇文章主要讲了什么？" asks about that article, not
        # its author again: "《产业互联网需要被正名》主要讲了什么？".
        return pointer.sub(lambda _: title, question, count=1)  # a title is no template
    return title + question


# 「流量是产业互联网的关键吗？」 → 「那什么才是？」: what is Y, if not X.
_YES_NO = re.compile(r"^(?:请问)?(.{1,20}?)(?:才是|就是|是)(.{2,30}?)吗[？?]?\s*$")
_WHAT_INSTEAD = re.compile(r"^(?:那么?|那到底)?[，,\s]*(什么|哪些|哪个|谁)(?:才|又|应该|到底)?是(?:什么)?(?:呢)?[？?]?\s*$")


def _what_is_instead(question: str, chain: list[str]) -> str | None:
    """「那什么才是？」 after 「X是Y吗？」: 「什么才是Y？」 (joined to the question before, it was asked of X
    again: fresh-user probe 19)."""
    asked = _WHAT_INSTEAD.match(question)
    before = _YES_NO.match(chain[-1]) if chain else None
    if asked is None or before is None:
        return None
    return f"{asked.group(1)}才是{before.group(2)}？"


def _more_of(history: Sequence[Message], names: Sequence[str]) -> str | None:
    """What 「展开说说」「还有呢？」 ask more of, when the question before was resolved here: an item
    (「那第二点呢？」), 「那Y呢？」, or an article of a list (「第一篇讲了什么？」: more of that article, not
    its outline again); and so on back through further 「还有呢？」."""
    last = max((i for i, m in enumerate(history) if m.role == "user"), default=None)
    if last is None:
        return None
    before, asked = history[:last], history[last].content
    if asks_for_more(asked):
        return _more_of(before, names)
    article = _article_asked(asked, before, names)
    if article is not None:
        title = TITLE_REF.match(article)
        return f"{title.group(0)}还有呢？" if title else None  # 「…还讲了什么？」 reads as its outline
    return _item_asked(asked, before) or _swapped(asked, _chain(asked, before), names)


# A character jieba cuts off the word it qualifies (新 / 产业): part of the subject it opens.
_QUALIFIERS = frozenset("新老旧真伪")


def _subject(question: str) -> str | None:
    """The first topical word of a question ("产业互联网的主战场在哪里？" → "产业互联网"), with the
    qualifier before it ("新产业是什么？" → "新产业", not "产业": fresh-user probe 29)."""
    word = subject_word(question, _ASPECTS)
    if word is None:
        return None
    tokens = cut(question)
    at = tokens.index(word) if word in tokens else 0
    return tokens[at - 1] + word if at and tokens[at - 1] in _QUALIFIERS else word
