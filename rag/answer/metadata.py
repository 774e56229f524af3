"""Questions about the library itself, answered from article metadata: who wrote an article, when
it was published, which articles an author wrote.

Passages rarely say who wrote them or when, so the extractive answer cannot quote it, and such
questions can fall under the relevance floor ("哪篇文章是元宇宙少女写的？" was refused). The
metadata ingest recorded answers them exactly; the LLM sees it anyway (title, author and date head
every passage in the prompt).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.answer.extractive import TITLE_REF, Extract
from rag.types import ArticleMeta, Citation, Hit

_ASKS_AUTHOR = re.compile(r"作者是谁|作者叫什么|谁写的|是谁写|由谁(?:撰写|所写|写)|作者是哪|哪位作者|出自谁")
_ASKS_DATE = re.compile(
    r"什么时候(?:发表|发布|写的|写成|刊登)|哪一?(?:年|天|月)(?:发表|发布|写的)|(?:发表|发布)(?:于|在)?(?:什么时[候间]|哪一?[年天月]|何时)"
    r"|(?:发表|发布)(?:时间|日期)|写于"
)
_ASKS_WORKS = re.compile(r"哪些文章|哪篇文章|哪几篇|几篇文章|写了(?:哪些|什么|几篇)|写过(?:哪些|什么)")
_NOT_WORD = re.compile(r"[\W_]+")


def _norm(text: str) -> str:
    """Letters, digits and CJK only, lower-cased: titles are quoted loosely ("_争气_" vs "“争气”")."""
    return _NOT_WORD.sub("", text).lower()


def _named_article(question: str, articles: Sequence[ArticleMeta]) -> ArticleMeta | None:
    """The article the question names: by a 《title》 (or a long enough part of one), else by its full title."""
    for ref in TITLE_REF.findall(question):
        ref_n = _norm(ref)
        if len(ref_n) < 4:
            continue
        found = [a for a in articles if ref_n in _norm(a.title) or _norm(a.title) in ref_n]
        if len(found) == 1:
            return found[0]
    q = _norm(question)
    found = [a for a in articles if len(_norm(a.title)) >= 6 and _norm(a.title) in q]
    return found[0] if len(found) == 1 else None


def _named_author(question: str, articles: Sequence[ArticleMeta]) -> str | None:
    names = {a.author for a in articles if a.author and len(a.author) >= 2 and a.author in question}
    return max(names, key=len) if names else None


def metadata_answer(question: str, catalog: Callable[[], Sequence[ArticleMeta]], hit_for: Callable[[ArticleMeta], Hit],
                    named: Sequence[str] = ()) -> Extract | None:
    """The answer to a question about authors and dates, or None when the question is about content.

    ``catalog`` lists every article's metadata; it is called only for a question about authors or
    dates (a large library's list is not read for every answer).

    ``hit_for`` gives the passage to cite for an article (its best retrieved one, else its first).
    ``named``: the articles the question names as the retriever found them (by part of a title
    without 《》 too: 「从Web2到Web3一文的作者是谁？」); one of them is the article asked about.
    """
    asks_author, asks_date = bool(_ASKS_AUTHOR.search(question)), bool(_ASKS_DATE.search(question))
    asks_works = bool(_ASKS_WORKS.search(question))
    if not (asks_author or asks_date or asks_works):
        return None
    articles = catalog()
    article = None
    if asks_author or asks_date:
        by_id = [a for a in articles if a.article_id in named[:1]]
        article = by_id[0] if len(named) == 1 and by_id else _named_article(question, articles)
    if article is not None:
        said = []
        if asks_author:
            said.append(f"的作者是{article.author}" if article.author else "没有注明作者")
        if asks_date:
            said.append(f"发表于 {article.date}" if article.date else "没有注明发表日期")
        text = f"《{article.title}》" + "，".join(said) + "。[1]"
        return Extract(text, (Citation.from_hit(1, hit_for(article)),))
    author = _named_author(question, articles) if asks_works else None
    if author is None:
        return None
    works = [a for a in articles if a.author == author]
    listed = "、".join(f"《{a.title}》[{i}]" for i, a in enumerate(works, 1))
    return Extract(f"{author}写的文章有 {len(works)} 篇：{listed}。",
                   tuple(Citation.from_hit(i, hit_for(a)) for i, a in enumerate(works, 1)))
