"""A domain glossary: the articles' own terms for what readers call in everyday words.

Articles about 产业互联网 say 「B端」「C端」 where a reader asks about 「企业客户」「普通消费者」; a
question in those words shares no term with the passage that answers it, so its BM25 scores miss
the passage and its dense similarity can fall under the relevance floor (a false refusal). When
that happens the retriever searches again with the article's term after the reader's words
(「企业客户（B端）」, once per term), so every signal sees both: the dense query, both BM25 sides,
the coverage checks and the reader (``Retriever.search`` says why only then).

The built-in glossary holds the sector's standard pairs, written from the domain's usage, not
from any question set. Operators of another corpus give their own file (``RAG_GLOSSARY=path``):
one term per line, ``term<TAB>alias, alias, …`` (also ``term: alias, …``), ``#`` comments; or
switch it off (``RAG_GLOSSARY=off``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# One line of a glossary file: the term, a tab or a colon, its aliases.
_LINE = re.compile(r"([^\t:：]+?)\s*(?:\t|[:：])\s*(\S.*)$")

BUILTIN: dict[str, tuple[str, ...]] = {
    "B端": ("企业客户", "企业用户", "企业端", "企业级客户", "机构客户", "商业客户", "toB", "to B", "ToB", "To B"),
    "C端": ("普通消费者", "个人消费者", "终端消费者", "个人用户", "普通用户", "消费者", "toC", "to C", "ToC", "To C"),
    "产业互联网": ("面向企业的互联网", "企业互联网", "to B互联网", "toB互联网", "B端互联网"),
    "消费互联网": ("面向消费者的互联网", "面向个人的互联网", "to C互联网", "toC互联网", "C端互联网"),
}


@dataclass(frozen=True)
class Glossary:
    """Terms and their aliases; ``expand`` annotates a question with the terms it paraphrases."""

    terms: dict[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        pairs = sorted(((a, t) for t, aliases in self.terms.items() for a in aliases if a and a != t),
                       key=lambda p: -len(p[0]))
        object.__setattr__(self, "_term_of", dict(pairs))
        pattern = "|".join(re.escape(a) for a, _ in pairs)
        object.__setattr__(self, "_alias", re.compile(pattern, re.IGNORECASE) if pattern else None)

    def expand(self, question: str) -> str:
        """``question`` with 「（term）」 after the first alias of each term it lacks."""
        if self._alias is None:
            return question
        added: set[str] = set()
        out: list[str] = []
        last = 0
        for m in self._alias.finditer(question):
            term = self._term_of.get(m.group(0)) or self._term_of_folded(m.group(0))
            if term in added or term.lower() in question.lower():
                continue
            added.add(term)
            out.append(question[last:m.end()] + f"（{term}）")
            last = m.end()
        return "".join(out) + question[last:] if out else question

    def _term_of_folded(self, alias: str) -> str:
        folded = alias.lower()
        return next(t for a, t in self._term_of.items() if a.lower() == folded)

    @classmethod
    def load(cls, spec: str) -> Glossary:
        """``builtin``, ``off``, or the path of a glossary file (see the module's doc); a file that
        cannot be read or parsed is a ``ValueError`` naming it (the settings check it at start)."""
        if spec == "builtin":
            return cls(BUILTIN)
        if spec == "off":
            return cls({})
        path = Path(spec).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError(f"RAG_GLOSSARY: cannot read {path}: {e}") from e
        terms: dict[str, tuple[str, ...]] = {}
        for n, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            m = _LINE.match(line)
            if m is None:
                raise ValueError(f"RAG_GLOSSARY: {path}, line {n}: expected 'term<TAB>alias, alias'")
            term = m.group(1)
            aliases = tuple(a.strip() for a in re.split(r"[,，、]", m.group(2)) if a.strip())
            terms[term] = terms.get(term, ()) + aliases
        return cls(terms)


@lru_cache(maxsize=8)
def glossary(spec: str) -> Glossary:
    """The glossary ``spec`` names, read once per process."""
    return Glossary.load(spec)
