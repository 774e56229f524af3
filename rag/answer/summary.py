"""The local model's one-sentence summary after the reader's quotes: what it is shown, what is kept."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.answer.citations import attribute, drop_unknown_markers, strip_markers, verify
from rag.answer.extractive import PARTIAL_LEAD, QUOTE
from rag.answer.prompt import SAYS_NOT_FOUND, SUMMARY_MAX_CHARS
from rag.text import cjk_bigrams, content_terms, subject_word
from rag.types import Degraded, Hit

__all__ = ["checked_summary", "quotes_of"]

_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]*(?:\s*\[\d+\])*")


def quotes_of(answer: str) -> list[tuple[int, str]]:
    """The reader's quotes grouped by the marker that cites them: ``(n, text)`` in marker order."""
    by_number: dict[int, str] = {}
    for m in QUOTE.finditer(answer.removeprefix(PARTIAL_LEAD)):
        n = int(m.group(2))
        by_number[n] = by_number.get(n, "") + m.group(1).strip()
    return sorted(by_number.items())


# Words a summary may use that its passages need not hold: how it frames what they say.
_FRAMING_WORDS = frozenset({"作者", "认为", "文章", "文中", "资料", "提到", "指出", "表示", "强调", "主要", "看来",
                            "总的来说", "总之", "因此", "可见", "之一", "方面", "这种", "这些", "这个", "它们", "他们",
                            "第一", "第二", "第一篇", "第二篇", "二篇", "两篇", "一篇", "前者", "后者", "分别"})
_FRAMING_LEAD = re.compile(r"^(?:作者|文章|文中|资料)?(?:认为|指出|提到|表示|说)?[，,：:\s]*")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")


_NEGATION = re.compile(r"不|没|非|未|无")
_CLAUSE = re.compile(r"[，,。；;！!？?\n]")


def _unfounded(text: str, passages: str, question: str, known: Callable[[str], bool]) -> bool:
    """Whether a summary says what its passages do not: a figure they do not hold, a word of two or
    more characters neither they nor the question hold (「…的关系是产业互联网在元宇宙中的应用」), a
    subject the library does not hold at all — the one it opens with, or the question's (「腾讯在
    产业互联网方面做了…」「在腾讯看来，…」 when no article names 腾讯) — or nothing but the question
    restated (「作者认为元宇宙是泡沫」; 「…不是泡沫」 says what the question asks, and can stay)."""
    plain = strip_markers(text)
    passages, question = passages.lower(), question.lower()  # content_terms lower-cases Web3, B端
    if any(not re.search(rf"(?<![\d.]){re.escape(f)}(?![\d.])", passages) for f in _FIGURE.findall(plain)):
        return True  # 「5万亿」 is not in 「15万亿」
    terms = [w for w in content_terms(plain) if len(w) >= 2 and w not in _FRAMING_WORDS]
    if any(w not in passages and w not in question for w in terms):
        return True
    # jieba's search mode lists 阿里 before 阿里巴巴: the subject is the longest term the sentence opens with.
    head = _FRAMING_LEAD.sub("", plain).lower()
    subjects = {max((w for w in terms if head.startswith(w)), key=len, default=""), (subject_word(question, _FRAMING_WORDS) or "").lower()}
    if any(w and w in plain.lower() and w not in passages and not known(w) for w in subjects):
        return True  # about what no article names
    said = set(cjk_bigrams(plain))
    if _NEGATION.search(plain) and not _NEGATION.search(question):
        # A no to a yes-or-no question (「作者认为元宇宙不是泡沫」), if a passage's clause on what the
        # summary denies says no too (「元宇宙才不会是一个虚无缥缈的存在」, not 「元宇宙如同一场春雨」).
        denied = set(cjk_bigrams(next(c for c in _CLAUSE.split(plain) if _NEGATION.search(c))))
        return not any(_NEGATION.search(c) and len(denied & set(cjk_bigrams(c))) >= 2 for c in _CLAUSE.split(passages))
    return bool(said) and len(said - set(cjk_bigrams(question))) <= len(said) // 5


def checked_summary(reply: str, shown: Sequence[Hit], question: str = "",
                    known: Callable[[str], bool] = lambda word: True,
                    authors: Sequence[str] = ()) -> tuple[str | None, Degraded | None]:
    """The model's summary kept to two sentences, with the markers the quotes support; or None
    and the reason (it said the passages lack the answer, or the quotes support none of it, or it
    says something they do not hold: ``_unfounded``; ``known``: whether the library holds a word;
    ``authors``: the library's, of whom it may name only those of the passages shown).

    A summary only restates the quotes above it, so a word the passages do not hold is a claim
    they do not make: a small model turns 「元宇宙才不会是一个虚无缥缈的存在」 into 「作者认为元宇宙是
    泡沫」 for 「作者认为元宇宙是泡沫吗？」, attributes a passage's 互联网巨头 to the 腾讯 a question
    names, or invents the figure a question asks for."""
    sentences = [m.group() for m in _SENTENCE.finditer(reply.strip())][:2]
    text = "".join(sentences).strip()
    if not text or SAYS_NOT_FOUND.search(text):
        return None, Degraded.MODEL_REFUSED
    # Whole sentences within twice the asked length: cut, 「…依然是一个以互[1]」 ended mid-word
    # (fresh-user probe 15), and a list cut short says there are fewer items.
    while sentences and len("".join(sentences).strip()) > 2 * SUMMARY_MAX_CHARS:
        sentences.pop()
    if not sentences:
        return None, Degraded.TOO_LONG
    text = "".join(sentences).strip()
    # What the summary may name: the passages, their titles and authors (「孟永辉认为…」).
    sources = "\n".join([h.chunk.text for h in shown] + [f"{h.article.title}\n{h.article.author or ''}" for h in shown])
    if _unfounded(text, sources, question, known):
        return None, Degraded.UNSUPPORTED
    # 「孟永辉认为Web3必将成为…」 over 元宇宙少女's passages: a view given to another author.
    writers = {h.article.author for h in shown}
    if any(a in text and a not in writers for a in authors):
        return None, Degraded.UNSUPPORTED
    # A marker naming no quote is dropped first, so the sentence can get the marker of the quote
    # that supports it.
    text = attribute(drop_unknown_markers(text, len(shown)), shown)
    checked = verify(text, shown)
    if not checked.citations or len(cjk_bigrams(strip_markers(text))) < 5:
        return None, Degraded.UNSUPPORTED
    # 「元宇宙少女认为…我是不赞同的[2]」 where [2] is 孟永辉's passage (fresh-user probe 19): an author
    # named for a view must have written a passage the summary cites.
    cited = {shown[int(n) - 1].article.author for n in _MARKER.findall(text) if 0 < int(n) <= len(shown)}
    if any(a in text and a not in cited for a in authors):
        return None, Degraded.UNSUPPORTED
    return text, None
