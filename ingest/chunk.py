"""Sentence-aware chunking of Chinese text with section headings and character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import split_sentences
from rag.types import Article, Chunk

_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}[、.．]\S.{0,38}"
    r"|第[一二三四五六七八九十\d]{1,3}[章节部分].{0,36}"
    r"|\d{1,2}[.、．]\s*\S.{0,36}"
    r"|(?:结语|总结|小结|前言|引言|写在最后|写在前面)[:：]?)$"
)
_NUMBERED = re.compile(r"^\s*\d{1,2}[.、．]\s*\S")
_CLAUSE_END = re.compile(r"[，,、：:]")


@dataclass(frozen=True)
class ChunkParams:
    """Packing limits in characters."""

    min_chars: int = 150
    max_chars: int = 350
    overlap: int = 1


def is_heading(line: str) -> bool:
    """A section heading line: 一、… / 1. … / 结语 (short, no sentence end)."""
    line = line.strip()
    return bool(_HEADING.match(line)) and not re.search(r"[。！？!?]$", line) and len(line) <= 40


def _heading_lines(lines: list[str]) -> list[bool]:
    """Which lines are section headings.

    A numbered line ("1. 降低运营成本") heads a section only when body text follows it and it is not
    one item of a list: next to another numbered line it is a list item, which belongs to the body.
    """
    nonempty = [i for i, ln in enumerate(lines) if ln.strip()]
    flags = [False] * len(lines)
    for k, i in enumerate(nonempty):
        line = lines[i]
        if not is_heading(line):
            continue
        if _NUMBERED.match(line):
            prev = lines[nonempty[k - 1]] if k > 0 else ""
            nxt = lines[nonempty[k + 1]] if k + 1 < len(nonempty) else ""
            if not nxt or _NUMBERED.match(nxt) or _NUMBERED.match(prev):
                continue
        flags[i] = True
    return flags


def _sections(text: str) -> list[tuple[str | None, int, int, int, int]]:
    """Split into ``(heading, head_start, head_end, body_start, end)`` by heading lines.

    A heading with no body of its own (a heading right before another) is not dropped:
    ``text[head_start:head_end]`` then spans both heading lines, kept with the next section's body.
    """
    sections: list[tuple[str | None, int, int, int, int]] = []
    heading: str | None = None
    h_start = h_end = body_start = 0
    pos = 0
    lines = text.split("\n")
    for line, is_head in zip(lines, _heading_lines(lines), strict=True):
        line_start, pos = pos, pos + len(line) + 1
        if not is_head:
            continue
        if text[body_start:line_start].strip():
            sections.append((heading, h_start, h_end, body_start, line_start))
        elif heading is not None:
            # The previous heading has no body: it travels with this one.
            heading, h_end, body_start = line.strip(), line_start + len(line), min(pos, len(text))
            continue
        heading, h_start, h_end, body_start = line.strip(), line_start, line_start + len(line), min(pos, len(text))
    sections.append((heading, h_start, h_end, body_start, len(text)))
    return [s for s in sections if s[0] is not None or text[s[3] : s[4]].strip()]


def _split_long(text: str, a: int, b: int, limit: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at clause ends (，、：), else hard, into pieces ≤ limit."""
    pieces: list[tuple[int, int]] = []
    while b - a > limit:
        window = text[a : a + limit]
        cut = max((m.end() for m in _CLAUSE_END.finditer(window)), default=0)
        cut = cut if cut >= limit // 3 else limit
        pieces.append((a, a + cut))
        a += cut
    pieces.append((a, b))
    return pieces


def chunk_article(article: Article, params: ChunkParams = ChunkParams()) -> list[Chunk]:
    """Pack the article's sentences into chunks of roughly ``min``–``max`` characters.

    Chunks never cross a section heading, never cut inside a sentence unless that sentence alone
    exceeds ``max_chars``, and repeat ``overlap`` sentences from the previous chunk.
    """
    text = article.text
    chunks: list[Chunk] = []
    for heading, h_start, h_end, body_start, end in _sections(text):
        # The heading travels with the first sentences of its section (and counts toward the limit).
        spans: list[tuple[int, int]] = [(h_start, h_end)] if heading else []
        for a, b in split_sentences(text, body_start, end):
            spans.extend(_split_long(text, a, b, params.max_chars))
        if not spans:
            continue
        groups: list[list[tuple[int, int]]] = []
        cur: list[tuple[int, int]] = []
        for span in spans:
            if cur and span[1] - cur[0][0] > params.max_chars:
                groups.append(cur)
                keep = cur[-params.overlap :] if params.overlap else []
                # Overlap only when it still leaves room for the new sentence.
                cur = keep if keep and span[1] - keep[0][0] <= params.max_chars else []
            cur.append(span)
        if cur and (not groups or cur[-1] != groups[-1][-1]):
            groups.append(cur)
        # A short tail is merged into the previous chunk when that stays near the limit.
        if len(groups) > 1:
            tail = groups[-1]
            prev = groups[-2]
            if tail[-1][1] - tail[0][0] < params.min_chars // 2 and tail[-1][1] - prev[0][0] <= params.max_chars * 1.2:
                groups[-2] = prev + [s for s in tail if s not in prev]
                groups.pop()
        for group in groups:
            start = group[0][0]
            stop = group[-1][1]
            chunks.append(
                Chunk(
                    chunk_id=f"{article.meta.article_id}#{len(chunks)}",
                    article_id=article.meta.article_id,
                    ordinal=len(chunks),
                    text=text[start:stop],
                    start=start,
                    end=stop,
                    heading=heading,
                )
            )
    return chunks
