"""The one check of a question, called once at each of the library's entry points (``Engine.ask``,
``Engine.stream``, ``Engine.search``): the API and the CLI rely on it and render its errors."""

from __future__ import annotations

import re

from rag.errors import EmptyQuestionError, InvalidQuestionError, QuestionTooLongError

_SURROGATE = re.compile("[\ud800-\udfff]")


def validate_question(question: str | None, max_chars: int) -> str:
    """``question`` without surrounding blanks; raises when it is empty, longer than ``max_chars``
    (blanks around it do not count) or holds a lone surrogate (bytes that were not UTF-8 on a
    command line, or a JSON ``\\ud800`` escape: it cannot be encoded)."""
    question = (question or "").strip()
    if not question:
        raise EmptyQuestionError()
    if len(question) > max_chars:
        raise QuestionTooLongError(f"question longer than {max_chars} characters", max_chars=max_chars)
    if _SURROGATE.search(question):
        raise InvalidQuestionError("question holds a lone surrogate")
    return question
