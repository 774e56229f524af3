"""A question typed with a character of the same sound as the one meant (「区快链」 for 区块链,
「新产叶」 for 新产业, 「Web3式初海」 for 出海): the commonest slip of a pinyin input method.

Used only for a question the library does not seem to cover: ``Retriever.search`` searches the
corrected question when the library holds its every word, and keeps that search only when it is
relevant, its passages hold every word of the question (``fully_covered``) and what each
replacement wrote. A character is replaced where a bigram it forms is one no passage holds, by a
common character of the same sound (pypinyin's readings, tones ignored) with which the bigram is
one a passage holds; at most ``MAX_FIXES`` characters, never in a stopword (``corrected``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection
from functools import lru_cache

MAX_FIXES = 2
# Longer questions are not corrected (the search over every position grows with the length).
MAX_CHARS = 60
# Only characters at least this frequent in jieba's dictionary are meant (a typo is typed for a
# common character: 币 590, 块 6749; the readings hold hundreds of rare ones, 比's 325 sounds-alike).
COMMON = 300


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _toneless(reading: str) -> str:
    """「kuài」 → 「kuai」, 「lǜ」 → 「lu」."""
    return "".join(ch for ch in unicodedata.normalize("NFD", reading) if not unicodedata.combining(ch))


def warm_up() -> None:
    """Load the readings now (about 0.2 s) rather than on the first refused question."""
    _by_sound()


@lru_cache(maxsize=1)
def _by_sound() -> dict[str, frozenset[str]]:
    """Every common ideograph by each of its toneless readings (about 30 ms, once)."""
    from pypinyin.pinyin_dict import pinyin_dict

    found: dict[str, set[str]] = {}
    for code, readings in pinyin_dict.items():
        if 0x4E00 <= code <= 0x9FFF:
            for reading in readings.split(","):
                found.setdefault(_toneless(reading), set()).add(chr(code))
    return {sound: frozenset(chars) for sound, chars in found.items()}


@lru_cache(maxsize=4096)
def same_sound(ch: str) -> frozenset[str]:
    """The common characters (``COMMON``) that share a reading with ``ch`` (itself left out)."""
    from pypinyin.pinyin_dict import pinyin_dict

    from rag.text import char_frequency

    readings = pinyin_dict.get(ord(ch), "")
    sounds = _by_sound()
    alike = frozenset().union(*(sounds.get(_toneless(r), frozenset()) for r in readings.split(",") if r)) - {ch}
    return frozenset(c for c in alike if char_frequency(c) >= COMMON)


def corrected(text: str, idf: Callable[[str], float], unseen: float,
              protected: Collection[int] = ()) -> tuple[str, list[str]]:
    """``text`` with up to ``MAX_FIXES`` characters replaced by one of the same sound where that
    turns bigrams no passage holds (``idf`` at least ``unseen``) into ones a passage holds, none the
    other way (the replacement that makes the most such bigrams known first, the commoner bigrams
    on a tie), and for each replacement the text it made known (to be found in a passage: a small
    library lacks many ordinary bigrams). ``protected``: the positions of the question's stopwords,
    never replaced (多少 is no typo of 多招) and no side of a bigram that counts (「建的」 → 「间的」 would
    make a common bigram known); a replacement's window is not touched again (留亮 → 留量, not then
    流量). ``text`` itself when there is nothing to correct, or when it is longer than ``MAX_CHARS``."""
    chars = list(text)
    windows: list[str] = []
    if len(text) > MAX_CHARS:
        return text, windows
    fixed_at: set[int] = set(protected)

    def known(gram: str) -> bool:
        return idf(gram) < unseen

    for _ in range(MAX_FIXES):
        best: tuple[int, float, int, str, str, range] | None = None  # (-gain, idf, position, char, window, span)
        for i, ch in enumerate(chars):
            if not _is_cjk(ch) or i in fixed_at:
                continue
            pairs = [(a, a + 1) for a in (i - 1, i) if 0 <= a and a + 1 < len(chars)
                     and _is_cjk(chars[a]) and _is_cjk(chars[a + 1]) and a not in fixed_at and a + 1 not in fixed_at]
            before = [p for p in pairs if not known(chars[p[0]] + chars[p[1]])]
            if not before:
                continue
            for c in same_sound(ch):
                grams = [(c if a == i else chars[a]) + (c if b == i else chars[b]) for a, b in pairs]
                after = [p for p, g in zip(pairs, grams, strict=True) if not known(g)]
                gain = len(before) - len(after)
                if gain < 1 or any(p not in before for p in after):
                    continue
                fixed = [p for p in before if p not in after]
                span = range(fixed[0][0], fixed[-1][1] + 1)
                window = "".join(c if j == i else chars[j] for j in span)
                key = (-gain, sum(idf(g) for g in grams), i, c, window, span)
                if best is None or key < best:
                    best = key
        if best is None:
            break
        chars[best[2]] = best[3]
        windows.append(best[4])
        fixed_at.update(best[5])
    return "".join(chars), windows
