"""Follow-up questions → standalone retrieval queries (rule-based fallback for the LLM rewrite)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text import content_terms
from rag.types import Message

_ANAPHORA = re.compile(
    r"^(?:那|那么|那它|还有|另外|此外|然后|接着|再|具体|为什么呢|怎么说)|"
    r"它|他们|她们|它们|这个|那个|这些|那些|这种|那种|这一|该文|上述|前者|后者|其中|这篇|那篇|此文|他|她"
)


def needs_context(question: str) -> bool:
    """A follow-up that cannot stand alone: it points back (它/这个/那…) or names almost nothing."""
    return bool(_ANAPHORA.search(question)) or len(content_terms(question)) <= 2


def rule_rewrite(question: str, history: Sequence[Message]) -> str:
    """Prefix a dependent follow-up with the previous user question, so retrieval sees the topic."""
    previous = [m.content.strip() for m in history if m.role == "user" and m.content.strip()]
    if not previous or not needs_context(question):
        return question
    return f"{previous[-1]} {question}"
