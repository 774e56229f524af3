"""The local model's one-sentence summary after the reader's quotes: what it is shown, what is kept."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.citations import attribute, drop_unknown_markers, strip_markers, verify
from rag.answer.extractive import PARTIAL_LEAD
from rag.answer.prompt import SAYS_NOT_FOUND, SUMMARY_MAX_CHARS
from rag.text import cjk_bigrams
from rag.types import Degraded, Hit

__all__ = ["checked_summary", "quotes_of"]

_QUOTE = re.compile(r"([^\[\]]+?)\[(\d+)\]")  # the reader cites each sentence with one [n]
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]*(?:\s*\[\d+\])*")


def quotes_of(answer: str) -> list[tuple[int, str]]:
    """The reader's quotes grouped by the marker that cites them: ``(n, text)`` in marker order."""
    by_number: dict[int, str] = {}
    for m in _QUOTE.finditer(answer.removeprefix(PARTIAL_LEAD)):
        n = int(m.group(2))
        by_number[n] = by_number.get(n, "") + m.group(1).strip()
    return sorted(by_number.items())


def checked_summary(reply: str, shown: Sequence[Hit]) -> tuple[str | None, Degraded | None]:
    """The model's summary kept to two sentences, with the markers the quotes support; or None
    and the reason (it said the passages lack the answer, or the quotes support none of it)."""
    text = "".join(m.group() for m in list(_SENTENCE.finditer(reply.strip()))[:2]).strip()
    text = text[: 2 * SUMMARY_MAX_CHARS]
    if not text or SAYS_NOT_FOUND.search(text):
        return None, Degraded.MODEL_REFUSED
    # A marker naming no quote is dropped first, so the sentence can get the marker of the quote
    # that supports it.
    text = attribute(drop_unknown_markers(text, len(shown)), shown)
    checked = verify(text, shown)
    if not checked.citations or len(cjk_bigrams(strip_markers(text))) < 5:
        return None, Degraded.UNSUPPORTED
    return text, None
