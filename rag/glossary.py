"""A domain glossary: the articles' own terms for what readers call in everyday words.

Articles about 产业互联网 say 「B端」「C端」 where a reader asks about 「企业客户」「普通消费者」; a
question in those words shares no term with the passage that answers it, so its BM25 scores miss
the passage and its dense similarity can fall under the relevance floor (a false refusal). When
that happens the retriever searches again with the article's term after the reader's words
(「企业客户（B端）」, once per term), so every signal sees both: the dense query, both BM25 sides,
the coverage checks and the reader (``Retriever.search`` says why only then).

The built-in glossary holds the sector's standard pairs, written from the domain's usage, not
from any question set. Operators of another corpus give their own file (``RAG_GLOSSARY=path``):
one term per line, ``term<TAB>alias, alias, …`` (also ``term: alias, …``), ``#`` comments, and
``term<TAB>= spelling, …`` for other spellings of the term (toB for B端), which the term replaces; or
switch it off (``RAG_GLOSSARY=off``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

# One line of a glossary file: the term, a tab or a colon, its aliases (split on commas, 、 or tabs).
_LINE = re.compile(r"([^\t:：]+?)\s*(?:\t|[:：])\s*(\S.*)$")
_ALIAS_SPLIT = re.compile(r"[,，、\t]")
# A comment starts a line or follows a space ("C#" is a term, not a comment).
_COMMENT = re.compile(r"(?:^|\s)#.*$")

# Matched without regard to case (toB, ToB, TOB). Not 「消费者」 alone, which off-topic questions use
# as often as on-topic ones, nor 「企业端」, which these articles use for 产业端.
BUILTIN: dict[str, tuple[str, ...]] = {
    "B端": ("企业客户", "企业用户", "企业级客户", "机构客户", "商业客户"),
    "C端": ("普通消费者", "个人消费者", "终端消费者", "个人用户", "普通用户"),
    "产业互联网": ("面向企业的互联网", "企业互联网", "toB互联网", "to B互联网", "B端互联网"),
    "消费互联网": ("面向消费者的互联网", "面向个人的互联网", "toC互联网", "to C互联网", "C端互联网"),
}
# Other spellings of a term (not a reader's words for it): the term replaces them, and the question
# so searched is held to the bare relevance floor (「to B和to C有什么不同？」 is 「B端和C端有什么不同？」).
# Not 2B / 2C: slang too (「你真2B」), and in figures (「1.2B参数」).
BUILTIN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "B端": ("toB", "to B"),
    "C端": ("toC", "to C"),
    # The sector's English names, typed into a Chinese question (fresh-user probe 24: 「industrial
    # internet 的关键是什么？」 was refused).
    "产业互联网": ("industrial internet",),
    "消费互联网": ("consumer internet",),
    "元宇宙": ("metaverse",),
    "区块链": ("blockchain",),
    "数字孪生": ("digital twin",),
    "供应链": ("supply chain",),
    "云计算": ("cloud computing",),
    "大数据": ("big data",),
    "人工智能": ("artificial intelligence",),
    "数字化转型": ("digital transformation",),
    "去中心化": ("decentralization", "decentralized"),
}


def _bounded(alias: str) -> str:
    """The alias as a pattern that does not match inside a Latin word ("to B" in "to build")."""
    pattern = re.escape(alias)
    if alias[0].isascii() and alias[0].isalnum():
        pattern = r"(?<![A-Za-z0-9.])" + pattern
    if alias[-1].isascii() and alias[-1].isalnum():
        pattern += r"(?![A-Za-z0-9])"
    return pattern


class Glossary:
    """Terms and their aliases; ``expand`` annotates a question with the terms it paraphrases.
    Read-only once built (shared by the server's threads)."""

    def __init__(self, terms: Mapping[str, Sequence[str]], spellings: Mapping[str, Sequence[str]] = MappingProxyType({})):
        self.terms: Mapping[str, tuple[str, ...]] = MappingProxyType({t: tuple(a) for t, a in terms.items()})
        self.spellings: Mapping[str, tuple[str, ...]] = MappingProxyType({t: tuple(a) for t, a in spellings.items()})
        self._respelt = frozenset(a.casefold() for aliases in self.spellings.values() for a in aliases)
        pairs = sorted(((a, t) for table in (self.terms, self.spellings) for t, aliases in table.items()
                        for a in aliases if a and a != t), key=lambda p: -len(p[0]))
        self._term_of = {a.casefold(): t for a, t in reversed(pairs)}  # an alias of two terms: the first
        self._alias = re.compile("|".join(_bounded(a) for a, _ in pairs), re.IGNORECASE) if pairs else None

    def expand(self, question: str) -> str:
        """``question`` with 「（term）」 after the first alias of each term it lacks; a spelling of a
        term (toB, to C) is replaced by it (「to B和to C的区别」 → 「B端和C端的区别」)."""
        if self._alias is None:
            return question
        folded = question.casefold()
        added: set[str] = set()
        out: list[str] = []
        last = 0
        for m in self._alias.finditer(question):
            term = self._term_of.get(m.group(0).casefold())
            spelling = m.group(0).casefold() in self._respelt
            # A spelling is replaced wherever it stands (「toB企业和toB平台」); an alias is annotated once.
            if term is None or (not spelling and (term in added or term.casefold() in folded)):
                continue
            added.add(term)
            out.append(question[last:m.start()] + (term if spelling else f"{m.group(0)}（{term}）"))
            last = m.end()
        return "".join(out) + question[last:] if out else question

    def respells_only(self, question: str) -> bool:
        """Whether every alias ``question`` holds is a spelling of its term (toB for B端): its
        expansion says what the question says, so it needs no margin over the relevance floor."""
        found = [m.group(0) for m in self._alias.finditer(question)] if self._alias is not None else []
        return bool(found) and all(a.casefold() in self._respelt for a in found)

    @classmethod
    def load(cls, spec: str) -> Glossary:
        """``builtin``, ``off``, or the path of a glossary file (see the module's doc); a file that
        cannot be read or parsed is a ``ValueError`` naming it (the settings check it at start)."""
        named = spec.strip().lower()
        if named == "builtin":
            return cls(BUILTIN, BUILTIN_SPELLINGS)
        if named == "off":
            return cls({})
        path = Path(spec).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ValueError(f"cannot read the glossary file {path}: {e.strerror}") from e
        except UnicodeDecodeError as e:
            raise ValueError(f"the glossary file {path} is not UTF-8 text") from e
        tables: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]] = ({}, {})
        for n, line in enumerate(text.splitlines(), 1):
            line = _COMMENT.sub("", line).strip()
            if not line:
                continue
            m = _LINE.match(line)
            listed = m.group(2) if m else ""
            table = tables[listed.startswith("=")]  # 「=」 before the list: spellings of the term
            aliases = tuple(a.strip() for a in _ALIAS_SPLIT.split(listed.lstrip("= ")) if a.strip())
            if m is None or not aliases:
                raise ValueError(f"glossary file {path}, line {n}: expected 'term<TAB>alias, alias'")
            table[m.group(1)] = table.get(m.group(1), ()) + aliases
        return cls(*tables)


@lru_cache(maxsize=8)
def glossary(spec: str) -> Glossary:
    """The glossary ``spec`` names, read once per process."""
    return Glossary.load(spec)
