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
from rag.answer.outline import asks_what_it_says
from rag.answer.reader import question_parts
from rag.answer.rewrite import lacks_topic
from rag.text import CLAUSE_END, content_terms
from rag.types import ArticleMeta, Citation, Hit

_ASKS_AUTHOR = re.compile(r"作者是谁|作者叫什么|谁写的|是谁写|^(?:请问)?谁写了(?=《[^》]{1,80}》[？?。]?$)|由谁(?:撰写|所写|写)|作者是哪|哪位作者|出自谁")
_ASKS_DATE = re.compile(
    r"(?:什么时候|何时)(?:发表|发布|发的|发出|写的|写成|刊登|出的)|哪一?(?:年|天|月)(?:发表|发布|发的|写的)"
    r"|(?:发表|发布)(?:于|在)?(?:什么时[候间]|哪一?[年天月]|何时|几月几[号日]|几号)|(?:发表|发布)(?:时间|日期)|写于|什么时候的文章"
)
# What may follow the date words in their clause (「…发表时间是哪一年？」), and what may come before
# them: nothing but the article (「《…》是」「这篇文章」「它」), not a subject of its own (「…里的NFT是
# 什么时候发的币？」「…提到的政策何时发布？」 ask about something else).
_DATE_AFTER = re.compile(r"[是的了吗呢啊呀\s]*(?:什么时[候间]|哪一?(?:年|天|月)|何时|几号|几月几[日号])?[的了吗呢啊呀\s？?。！!]*")
_THE_ARTICLE = re.compile(r"(?:文章|这篇|那篇|该文|一文|此文|本文|它)[是的于在\s]*$")


def _asks_date(question: str) -> bool:
    """Whether the question asks when the article it names was published."""
    for clause in CLAUSE_END.split(TITLE_REF.sub(" ", question)):
        m = _ASKS_DATE.search(clause)
        if m and _DATE_AFTER.fullmatch(clause[m.end():]) and (
                _THE_ARTICLE.search(clause[: m.start()]) or not content_terms(clause[: m.start()])):
            return True
    return False


_ASKS_WORKS = re.compile(r"哪些文章|哪篇文章|哪几篇|几篇文章|写了(?:哪些|什么|几篇)|写过(?:哪些|什么|几篇)|(?:还)?写(?:过|了)(?:别的|其他|其它)(?:的)?(?:文章|作品)?(?:吗|么|没有|[？?]|$)|还写(?:过|了)(?:什么|文章|作品)?(?:吗|么|没有)|有几篇(?:是|为|出自)")
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


# The library as a whole: which articles it holds, how many, what they say (「有哪些文章？」「这几篇文章
# 分别讲了什么？」「一共有几篇文章？」「列出所有文章」) — with no subject of its own: 「有哪些文章讲了元宇宙？」
# is about 元宇宙, 「这篇文章有什么内容？」 about one article.
_ASKS_CATALOG = re.compile(
    r"(?:有|收录了?|包含|包括)(?:哪些|哪几篇|些什么|什么|几篇|多少篇?)(?:文章|资料|内容)|(?:一共|总共|共)(?:有|收录了?)?(?:几|多少)篇"
    r"|文章(?:有)?(?:多少|几)篇|文章(?:列表|目录|清单)|列(?:出|一下)|[这那](?:几|些|[两三四五六七八九十\d]+)篇?文章"
    r"|(?:资料库|知识库|文档库)里?|(?:全部|所有)(?:的)?文章|每篇文章"
    # 「文章都是谁写的？」「作者都有谁？」「有哪些作者？」: who wrote them (not 「这篇文章是谁写的？」).
    r"|(?:都|分别|各自)是谁写的|作者(?:都|分别|各自)(?:是|有)谁|作者都有哪些(?:人|位)?(?=[？?]?$)|(?:有)?哪(?:些|几位)作者"
)
_ONE_ARTICLE = re.compile(r"[这那该此本]篇(?!文章们)|该文|此文|本文")
# What may stand beside those words and nothing else: words about articles, question words and
# particles (a character left over — 云, 中台, 字 — is a subject).
# 「讲了什么」「介绍的是哪些」: asking what articles say (not 「讲了中台」, which names a subject).
_SAYS_WHAT = r"(?:讲|说|谈|写|介绍|提到|讨论)(?:了|的是|的)?(?:什么|啥|哪些)"
_CATALOG_WORDS = re.compile(
    _SAYS_WHAT + r"(?:内容|观点|问题)?|(?:讲|说|谈|写|介绍|提到|讨论)(?:了|的是|的)?些什么"
    r"|资料库里?|知识库里?|文档库里?|资料|文章|标题|题目|作者|发表|时间|日期|时候|列表|目录|清单|列出|列一下"
    r"|一共|总共|全部|所有|分别|各自|主要|核心|观点|内容|结论|包含|包括|收录|推荐|排序|按|顺序"
    r"|多少|哪些|哪几|什么|怎样|如何|介绍一下|介绍|概括|总结|大概|简单|一下|请|能|可以|给我|帮我"
    r"|[这那几些篇每共都有是的了过最吗呢谁你们我他她个下些写位两三四五六七八九十\d]"
)
# ... and what they say, not only their titles; when they were published.
_ASKS_WHAT_THEY_SAY = re.compile(_SAYS_WHAT + r"|观点|内容|结论|概括|总结")
_ASKS_WHEN = re.compile(r"时候|时间|日期|发表|哪年|哪一年")
_ASKS_WHO = re.compile(r"作者|谁")
# A large library's catalog answer lists this many articles, then how many more.
CATALOG_LISTED = 10


def asks_catalog(question: str) -> bool:
    """Whether ``question`` asks about the library as a whole and about nothing else."""
    if not _ASKS_CATALOG.search(question) or _ONE_ARTICLE.search(question):
        return False
    return not _CATALOG_WORDS.sub("", _NOT_WORD.sub("", question))


# An author's views (「孟永辉的核心观点是什么？」「孟永辉怎么看产业互联网？」 no: that names a subject):
# the author, then only words about articles and views.
_ASKS_VIEWS = re.compile(r"观点|主张|看法|认为|怎么看|立场")
_VIEW_WORDS = re.compile(f"{_ASKS_VIEWS.pattern}|在?文章里?|提出")


def _asks_works_and_what(question: str) -> bool:
    """Whether a question asks which articles someone wrote and what they say (「孟永辉写过哪些文章？
    分别讲了什么？」), not only which (「孟永辉写了哪些文章？」)."""
    return bool(_ASKS_WORKS.search(question)) and bool(_ASKS_WHAT_THEY_SAY.search(_ASKS_WORKS.sub(" ", question)))


def asked_author(question: str, catalog: Callable[[], Sequence[ArticleMeta]]) -> str | None:
    """The library's author a question asks the views of, with no subject of its own (``catalog``
    is read only for a question about views, or about the author's articles and what they say:
    「孟永辉写过哪些文章？分别讲了什么？」)."""
    if not (_ASKS_VIEWS.search(question) or _asks_works_and_what(question)):
        return None
    author = _named_author(question, catalog())
    if author is None:
        return None
    rest = _NOT_WORD.sub("", question.replace(author, ""))
    rest = _CATALOG_WORDS.sub("", _VIEW_WORDS.sub("", rest))
    return None if rest else author


def _about(article: ArticleMeta, dated: bool, authored: bool = False) -> str:
    """「（author，date）」 after a listed title (the date when asked for; 未注明作者 for an article with
    none when authors are asked for), or nothing."""
    about = [article.author or ("未注明作者" if authored else "")] + ([article.date or "未注明日期"] if dated else [])
    return f"（{'，'.join(x for x in about if x)}）" if any(about) else ""


def _cited(articles: Sequence[ArticleMeta], hit_for: Callable[[ArticleMeta], Hit]) -> tuple[Citation, ...]:
    """A citation [n] for the n-th of ``articles``, at its passage ``hit_for`` gives."""
    return tuple(Citation.from_hit(i, hit_for(a)) for i, a in enumerate(articles, 1))


def catalog_answer(question: str, articles: Sequence[ArticleMeta], hit_for: Callable[[ArticleMeta], Hit],
                   headings_of: Callable[[str], Sequence[str]], author: str | None = None) -> Extract:
    """The library's articles, each with its author and, when ``question`` asks what they say, its
    top-level headings (``headings_of``: an article without any gives its first statement), each
    cited to its first passage; a large library's first ``CATALOG_LISTED``.
    With ``author``: that author's articles and what each says (the question asked their views)."""
    say = author is not None or bool(_ASKS_WHAT_THEY_SAY.search(question))
    dated = bool(_ASKS_WHEN.search(question))
    authored = bool(_ASKS_WHO.search(question))
    if author is not None:
        articles = [a for a in articles if a.author == author]
    shown = list(articles)[:CATALOG_LISTED]
    lines = []
    for i, a in enumerate(shown, 1):
        headings = "；".join(headings_of(a.article_id)) if say else ""
        lines.append(f"{i}. 《{a.title}》{_about(a, dated, authored)}" + (f"：{headings}" if headings else "") + f"[{i}]")
    more = f"（以下列出前 {len(shown)} 篇）" if len(articles) > len(shown) else ""
    each = "各篇" if len(articles) > 1 else "这篇文章"
    lead = (f"{author}写的文章有 {len(articles)} 篇{more}，{each}的要点：" if _ASKS_WORKS.search(question)
            else f"{author}的观点见于其 {len(articles)} 篇文章{more}，{each}的要点：") if author is not None else \
        f"资料库共有 {len(articles)} 篇文章{more}："
    return Extract(lead + "\n" + "\n".join(lines),
                   _cited(shown, hit_for))


# The newest or the oldest article of the library (「哪篇文章最新？」「最早的一篇是哪年发的？」), with no
# subject of its own (the words left after these and the catalog's are none).
_EXTREME = re.compile(r"最(新|近|晚|早|先|旧|老)")
_EXTREME_WORDS = re.compile(r"最(?:新|近|晚|早|先|旧|老)(?:的|一次)?|(?:发表|发布|发|写|出|更新)(?:得|的|了)?"
                            r"|哪一?篇|一篇|哪年|哪一年|哪天|哪一天|几号|日期")


def _asks_extreme(question: str, author: str | None = None) -> str | None:
    """``newest`` or ``oldest`` for a question asking which article of the library (of ``author``'s,
    when it names them: 「孟永辉最新的文章是哪篇？」) is."""
    m = _EXTREME.search(question)
    if m is None or _ONE_ARTICLE.search(question):
        return None
    words = _NOT_WORD.sub("", question.replace(author, "") if author else question)
    rest = _CATALOG_WORDS.sub("", _EXTREME_WORDS.sub("", words))
    if rest or not re.search(r"文章|篇|发表|发布", question):
        return None
    return "newest" if m.group(1) in "新近晚" else "oldest"


# 「最近的文章有哪些？」 asks for several: the dated articles, newest (or oldest) first.
_SEVERAL = re.compile(r"哪些|哪几篇|几篇")


def mentions_newest_or_oldest(question: str) -> bool:
    """Whether the question speaks of the newest or oldest (最新, 最早 …), the cheap test first."""
    return bool(_EXTREME.search(question))


def extreme_said(question: str, catalog: Callable[[], Sequence[ArticleMeta]]) -> ArticleMeta | None:
    """The one newest or oldest article (of the library, or of the author named) when the question
    asks what it says (「最新的文章讲了什么？」「孟永辉最早的一篇写了什么？」), else None."""
    if not (_EXTREME.search(question) and _ASKS_WHAT_THEY_SAY.search(question)) or _SEVERAL.search(question):
        return None
    articles = catalog()
    author = _named_author(question, articles)
    which = _asks_extreme(question, author)
    if which is None:
        return None
    dated = sorted((a for a in articles if a.date and (author is None or a.author == author)),
                   key=lambda a: a.date or "", reverse=which == "newest")
    same_day = [a for a in dated if a.date == dated[0].date] if dated else []
    return same_day[0] if len(same_day) == 1 else None


def _extreme_answer(question: str, which: str, articles: Sequence[ArticleMeta],
                    hit_for: Callable[[ArticleMeta], Hit], author: str | None) -> Extract:
    """The newest or oldest of ``articles`` (all the library's, or ``author``'s), or several of them
    in that order when the question asks for several."""
    if author is not None:
        articles = [a for a in articles if a.author == author]
    dated = sorted((a for a in articles if a.date), key=lambda a: a.date or "", reverse=which == "newest")
    whose = f"{author}的" if author else "资料库中的"
    if not dated:
        return Extract(f"{whose}文章都没有注明发表日期。", ())
    undated = f"（另有 {len(articles) - len(dated)} 篇没有注明日期）" if len(dated) < len(articles) else ""
    adjective = "最新" if which == "newest" else "最早"
    if _SEVERAL.search(question):
        shown = dated[:CATALOG_LISTED]
        order = "从新到旧" if which == "newest" else "从早到晚"
        lines = [f"{i}. 《{a.title}》{_about(a, True)}[{i}]" for i, a in enumerate(shown, 1)]
        return Extract(f"{whose}文章按发表日期{order}{undated}：\n" + "\n".join(lines),
                       _cited(shown, hit_for))
    found = [a for a in dated if a.date == dated[0].date]  # several published the same day: all of them
    titles = "、".join(f"《{a.title}》（{a.author}）[{i}]" if a.author else f"《{a.title}》[{i}]"
                      for i, a in enumerate(found, 1))
    return Extract(f"{author or '资料库中'}{adjective}的文章是{titles}，发表于 {dated[0].date}{undated}。",
                   _cited(found, hit_for))


# 「她专门研究什么领域？」 after 「…的作者是谁？」: 她 is the author.
_PRONOUN_LEAD = re.compile(r"^(?:那|那么)?[他她](?!们)")


def asked_besides(question: str) -> str | None:
    """What a question about an article's author or date asks besides (「《…》的作者是谁？她专门研究
    什么领域？」: 「作者专门研究什么领域？」), for the reader; None when it asks nothing else."""
    # A title's own 「？」 splits no question (「《…进入争气时代？》的作者是谁？」): titles stand aside
    # while the question is split, and come back in the parts that hold them.
    titles = [m.group(0) for m in TITLE_REF.finditer(question)]
    masked = TITLE_REF.sub("《》", question)
    parts = question_parts(masked)
    rest = []
    for part in parts:
        restored = part
        for title in titles[masked[: masked.find(part)].count("《》"):]:
            if "《》" not in restored:
                break
            restored = restored.replace("《》", title, 1)
        # A follow-up joined to the question it follows (「…的作者是谁？ 那另一篇呢？」) is no part.
        if (_ASKS_AUTHOR.search(part) or _asks_date(part) or part.rstrip(" ？?").endswith("呢")
                or (lacks_topic(part) or not content_terms(part.replace("《》", " "))) and not asks_what_it_says(part)):
            continue
        rest.append(_PRONOUN_LEAD.sub("作者", restored.strip()))
    return "，".join(rest) + "？" if rest and len(rest) < len(parts) else None


def metadata_answer(question: str, catalog: Callable[[], Sequence[ArticleMeta]], hit_for: Callable[[ArticleMeta], Hit],
                    named: Sequence[str] = ()) -> Extract | None:
    """The answer to a question about authors and dates, or None when the question is about content.

    ``catalog`` lists every article's metadata; it is called only for a question about authors or
    dates (a large library's list is not read for every answer).

    ``hit_for`` gives the passage to cite for an article (its best retrieved one, else its first).
    ``named``: the articles the question names as the retriever found them (by part of a title
    without 《》 too: 「从Web2到Web3一文的作者是谁？」); one of them is the article asked about.
    """
    asks_author, asks_date = bool(_ASKS_AUTHOR.search(question)), _asks_date(question)
    asks_works = bool(_ASKS_WORKS.search(question))
    newest_or_oldest = bool(_EXTREME.search(question))
    if not (asks_author or asks_date or asks_works or newest_or_oldest):
        return None
    articles = catalog()
    if newest_or_oldest:
        author = _named_author(question, articles)
        extreme = _asks_extreme(question, author)
        if extreme is not None:
            return _extreme_answer(question, extreme, articles, hit_for, author)
        if not (asks_author or asks_date or asks_works):
            return None
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
    if author is None or _asks_works_and_what(question):
        # (「孟永辉写过哪些文章，他最核心的观点是什么？」 got the list alone: the catalog of the author's
        # articles with what each says answers both: fresh-user probe 29.)
        return None
    works = [a for a in articles if a.author == author]
    listed = "、".join(f"《{a.title}》[{i}]" for i, a in enumerate(works, 1))
    return Extract(f"{author}写的文章有 {len(works)} 篇：{listed}。",
                   _cited(works, hit_for))


def mentions_answer(word: str, found: Sequence[tuple[Hit, str]], more: bool) -> Extract:
    """The articles that mention ``word``, each with a sentence of it that does (``found``: the
    passage to cite and that sentence, an article each); ``more`` when others may be left out."""
    lines = [f"{i}. 《{hit.article.title}》{_about(hit.article, False)}：{sentence}[{i}]"
             for i, (hit, sentence) in enumerate(found, 1)]
    lead = f"提到「{word}」的文章不止 {len(found)} 篇，以下是其中 {len(found)} 篇：" if more else \
        f"提到「{word}」的文章有 {len(found)} 篇："
    return Extract(lead + "\n" + "\n".join(lines), tuple(Citation.from_hit(i, hit) for i, (hit, _) in enumerate(found, 1)))
