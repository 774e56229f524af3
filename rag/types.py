"""Typed values that flow through the library: articles, chunks, hits, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

Mode = Literal["auto", "llm", "retrieval"]


class Degraded(StrEnum):
    """Why an answer that could have come from the LLM is the retrieval answer (``Answer.degraded``).

    An HTTP error from the endpoint is ``http_<status>`` (``Degraded.http(500)``), outside the enum.
    """

    NOT_CONFIGURED = "not_configured"  # mode llm without an LLM configured
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    RATE_LIMITED = "rate_limited"  # HTTP 429
    STREAM_BROKEN = "stream_broken"
    EMPTY = "empty"
    BAD_REPLY = "bad_reply"  # a 200 that is not a chat completion
    API_ERROR = "api_error"
    BUSY = "busy"  # the local model's queue is full
    MODEL_MISSING = "model_missing"  # the local GGUF model is not installed or cannot load
    MODEL_REFUSED = "model_refused"  # a small model said 资料中没有找到 for relevant passages
    UNSUPPORTED = "unsupported"  # the local model's summary: nothing in it the quotes support
    TOO_LONG = "too_long"  # the local model's summary: its first sentence runs past the length it may have

    @staticmethod
    def http(status: int) -> str:
        """The reason for an HTTP error status from the endpoint."""
        return f"http_{status}"


@dataclass(frozen=True)
class ArticleMeta:
    """Metadata of one ingested article (no body text)."""

    article_id: str
    source: str
    title: str
    author: str | None = None
    site: str | None = None
    date: str | None = None
    url: str | None = None
    image: str | None = None
    categories: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["categories"] = list(self.categories)
        return d


@dataclass(frozen=True)
class Article:
    """A cleaned article: metadata plus its cleaned text (offsets refer to this text)."""

    meta: ArticleMeta
    text: str
    content_hash: str


@dataclass(frozen=True)
class Chunk:
    """A passage of an article; ``start``/``end`` are character offsets into the article text."""

    chunk_id: str
    article_id: str
    ordinal: int
    text: str
    start: int
    end: int
    heading: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its fused score and its article's metadata."""

    rank: int
    score: float
    chunk: Chunk
    article: ArticleMeta

    def to_dict(self) -> dict[str, Any]:
        """The shape shared by ``rag search --json`` and ``GET /api/search``."""
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "article_id": self.article.article_id,
            "source": self.article.source,
            "title": self.article.title,
            "author": self.article.author,
            "date": self.article.date,
            "chunk_id": self.chunk.chunk_id,
            "heading": self.chunk.heading,
            "text": self.chunk.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
        }


@dataclass(frozen=True)
class Citation:
    """A passage an answer cites; ``n`` is the number of its ``[n]`` marker in the answer."""

    n: int
    article_id: str
    source: str
    title: str
    author: str | None
    date: str | None
    url: str | None
    passage: str
    start: int
    end: int
    score: float
    chunk_id: str | None = None

    @classmethod
    def from_hit(cls, n: int, hit: Hit) -> Citation:
        return cls(
            n=n,
            article_id=hit.article.article_id,
            source=hit.article.source,
            title=hit.article.title,
            author=hit.article.author,
            date=hit.article.date,
            url=hit.article.url,
            passage=hit.chunk.text,
            start=hit.chunk.start,
            end=hit.chunk.end,
            score=round(float(hit.score), 6),
            chunk_id=hit.chunk.chunk_id,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Message:
    """One turn of a conversation; ``role`` is ``user`` or ``assistant`` (``system`` is ignored)."""

    role: str
    content: str


@dataclass(frozen=True)
class Answer:
    """The result of a question: text with ``[n]`` markers and the passages those markers cite.

    ``mode`` is the mode that actually produced the text (``llm`` or ``retrieval``);
    ``degraded`` says why an LLM answer fell back to retrieval (``None`` when it did not).
    ``grounded`` is false when the answer cites no supported passage (and for refusals).
    """

    answer: str
    citations: tuple[Citation, ...]
    mode: Literal["llm", "retrieval"]
    grounded: bool
    degraded: Degraded | str | None = None  # str: Degraded.http(status)
    refused: bool = False
    query: str | None = None
    took_ms: float | None = None
    hits: tuple[Hit, ...] = field(default=(), compare=False, repr=False)
    timings: dict[str, float] = field(default_factory=dict, compare=False, repr=False)  # retrieval_ms, llm_ms, llm_first_ms

    def to_dict(self) -> dict[str, Any]:
        """The shape shared by ``rag ask --json`` and ``POST /api/ask``."""
        return {
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "mode": self.mode,
            "grounded": self.grounded,
            "degraded": self.degraded,
            "refused": self.refused,
            "query": self.query,
            "took_ms": self.took_ms,
        }


# Streaming events, in order: one ``Retrieved``, any number of ``Delta``, then ``Done``.
# ``Done.answer`` carries the final (verified) answer; on a fallback its text replaces the deltas.


@dataclass(frozen=True)
class Retrieved:
    """First stream event: the passages the answer will be drawn from (numbered from 1)."""

    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Delta:
    """A piece of answer text; ``restart`` voids the text streamed before it (an LLM stream
    broke midway and this piece starts the retrieval-only answer). An empty piece carries nothing:
    the model is writing text that goes out once checked (edges need not send it)."""

    text: str
    restart: bool = False


@dataclass(frozen=True)
class Done:
    """Last stream event: the final answer with verified citations."""

    answer: Answer


StreamEvent = Retrieved | Delta | Done
