"""Short passages for a small model: the sentences of each retrieved chunk that the question points at."""

from __future__ import annotations

from collections.abc import Callable

from rag.text import cjk_bigrams, split_sentences


def focus(text: str, question: str, idf: Callable[[str], float], max_chars: int) -> str:
    """The run of consecutive sentences of ``text`` (at most ``max_chars``) that best matches ``question``.

    The best sentence (IDF-weighted share of the question's bigrams) is the seed; neighbours are
    added, the better-scoring side first, while the window stays within ``max_chars``. A chunk that
    already fits is returned whole. Prompt tokens are what a 1.5B model on 2 cores pays for most
    (about 30 tokens/s to read against 13 to write), so the model sees the matching sentences and
    their immediate context, not the whole chunk.
    """
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    spans = split_sentences(text)
    if not spans:
        return text[:max_chars]
    wanted = set(cjk_bigrams(question))

    def score(span: tuple[int, int]) -> float:
        got = set(cjk_bigrams(text[span[0] : span[1]])) & wanted
        return sum(idf(b) for b in got)

    scores = [score(s) for s in spans]
    best = max(range(len(spans)), key=lambda i: scores[i])
    lo = hi = best
    while True:
        options = []
        if lo > 0:
            options.append((scores[lo - 1], lo - 1, hi))
        if hi < len(spans) - 1:
            options.append((scores[hi + 1], lo, hi + 1))
        grown = False
        for _, a, b in sorted(options, reverse=True):
            if spans[b][1] - spans[a][0] <= max_chars:
                lo, hi, grown = a, b, True
                break
        if not grown:
            break
    window = text[spans[lo][0] : spans[hi][1]]
    return window if len(window) <= max_chars else window[:max_chars] + "…"
