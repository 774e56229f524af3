"""Request and response models of the HTTP API, with descriptions and examples for ``/docs``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

ModeIn = Literal["auto", "llm", "retrieval"]


def _encodable(value: str) -> str:
    # JSON may escape lone surrogates (\ud800) that no UTF-8 response can carry back: refuse them here.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("invalid_unicode", "text contains invalid Unicode") from None
    return value


Text = Annotated[str, AfterValidator(_encodable)]
"""A string that is valid Unicode (every user-supplied text field uses it)."""

# What the engine checks (400 empty_question), stated in the schema: some text that is not only
# whitespace. Checked by the engine rather than by pydantic so that the answer keeps its own code.
NOT_BLANK: dict[str, Any] = {"minLength": 1, "pattern": r"\S"}
# Request bodies take JSON types as they are: "5" is not an integer and "yes" is not a boolean.
STRICT = ConfigDict(strict=True)

_QUESTION = "产业互联网和消费互联网有什么区别？"
_ARTICLE_ID = "001_e3c7ae41c0c3d234"
_TITLE = "从Web2到Web3，产业互联网进入“争气”时代？"
_PASSAGE = "Web2从C到B，Web3从B到C，产业互联网必将成为Web3第一战场。"


# --- shared pieces ------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """What went wrong, for programs (``code``) and for people (``message``, Chinese)."""

    code: str = Field(description="Stable machine-readable error code.", examples=["empty_question"])
    message: str = Field(description="Explanation for the end user, in Chinese.", examples=["问题不能为空。"])


class ErrorResponse(BaseModel):
    """Body of every 4xx/5xx response."""

    error: ErrorDetail = Field(
        description="The error.", examples=[{"code": "empty_question", "message": "问题不能为空。"}]
    )


class CitationOut(BaseModel):
    """A passage cited by ``[n]`` in the answer; ``start``/``end`` index the article's cleaned text."""

    n: int = Field(description="Number of the [n] marker in the answer.", examples=[1])
    article_id: str = Field(description="Id of the cited article.", examples=[_ARTICLE_ID])
    source: str = Field(description="File the article was ingested from.", examples=[f"{_ARTICLE_ID}.txt"])
    title: str = Field(description="Article title.", examples=[_TITLE])
    author: str | None = Field(description="Article author, if known.", examples=["人人都是产品经理"])
    date: str | None = Field(description="Publication date (ISO 8601), if known.", examples=["2022-07-08"])
    url: str | None = Field(description="Original URL, if known.", examples=[None])
    passage: str = Field(description="The cited passage.", examples=[_PASSAGE])
    start: int = Field(description="Start offset of the passage in the article text.", examples=[120])
    end: int = Field(description="End offset (exclusive) of the passage in the article text.", examples=[152])
    score: float = Field(description="Retrieval score of the passage.", examples=[0.81])
    chunk_id: str | None = Field(None, description="Id of the cited chunk.", examples=[f"{_ARTICLE_ID}:3"])


_CITATION_EXAMPLE: dict[str, Any] = {
    "n": 1,
    "article_id": _ARTICLE_ID,
    "source": f"{_ARTICLE_ID}.txt",
    "title": _TITLE,
    "author": "人人都是产品经理",
    "date": "2022-07-08",
    "url": None,
    "passage": _PASSAGE,
    "start": 120,
    "end": 152,
    "score": 0.81,
    "chunk_id": f"{_ARTICLE_ID}:3",
}


class AnswerOut(BaseModel):
    """An answer with ``[n]`` markers and the passages they cite."""

    answer: str = Field(
        description="Answer text with [n] citation markers.",
        examples=["产业互联网面向企业，消费互联网面向个人用户[1]。"],
    )
    citations: list[CitationOut] = Field(description="Passages cited by the answer.", examples=[[_CITATION_EXAMPLE]])
    mode: Literal["llm", "retrieval"] = Field(
        description="What produced the text: the LLM, or extractive retrieval.", examples=["retrieval"]
    )
    grounded: bool = Field(description="True when the answer cites supporting passages.", examples=[True])
    degraded: str | None = Field(
        None,
        description="Why an LLM answer fell back to retrieval (timeout, rate_limited, http_500, stream_broken, bad_reply, not_configured; local model: busy, model_missing, model_refused, unsupported, too_long; ...); null if it did not.",
        examples=[None],
    )
    refused: bool = Field(False, description="True when nothing relevant was found.", examples=[False])
    query: str | None = Field(None, description="The question as searched (after rewriting).", examples=[_QUESTION])
    took_ms: float | None = Field(None, description="Time spent answering, in milliseconds.", examples=[12.5])
    feedback_id: str | None = Field(
        None, description="Id for POST /api/feedback (👍/👎); null when the question log is off.",
        examples=["9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d"],
    )


# --- requests -----------------------------------------------------------------------------


class AskRequest(BaseModel):
    """One question, answered from the articles."""

    model_config = STRICT

    question: Text = Field(description="The question (Chinese or English).", examples=[_QUESTION],
                           json_schema_extra=NOT_BLANK)
    top_k: int | None = Field(
        None, ge=1, le=50, description="Passages to retrieve; default from the server settings.", examples=[5]
    )
    mode: ModeIn | None = Field(
        None,
        description="auto (LLM when configured), llm, or retrieval (extractive, no LLM); default from settings.",
        examples=["retrieval"],
    )


class MessageIn(BaseModel):
    """One turn of the conversation sent by the client."""

    model_config = STRICT

    role: Literal["user", "assistant", "system"] = Field(description="Who wrote the message.", examples=["user"])
    content: Text = Field(
        description="Message text; the last message (the question) must have some, earlier ones may be empty.",
        examples=[_QUESTION],
    )


class ChatRequest(BaseModel):
    """A stateless chat turn: the client sends the whole history; the last message is the question."""

    model_config = STRICT

    messages: list[MessageIn] = Field(
        min_length=1,
        description="Conversation so far, oldest first; the last message must be from the user.",
        examples=[
            [
                {"role": "user", "content": "什么是产业互联网？"},
                {"role": "assistant", "content": "产业互联网是面向企业的互联网[1]。"},
                {"role": "user", "content": "它和Web3有什么关系？"},
            ]
        ],
    )
    stream: bool = Field(False, description="Answer as Server-Sent Events (citations, delta*, done).", examples=[True])
    mode: ModeIn | None = Field(None, description="auto, llm or retrieval; default from settings.", examples=["auto"])
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve.", examples=[5])


# --- search and articles ------------------------------------------------------------------


class HitOut(BaseModel):
    """One retrieved passage (the shape of ``rag search --json``)."""

    rank: int = Field(description="1-based rank.", examples=[1])
    score: float = Field(description="Fused retrieval score.", examples=[0.81])
    article_id: str = Field(description="Id of the article.", examples=[_ARTICLE_ID])
    source: str = Field(description="File the article came from.", examples=[f"{_ARTICLE_ID}.txt"])
    title: str = Field(description="Article title.", examples=[_TITLE])
    author: str | None = Field(description="Article author.", examples=["人人都是产品经理"])
    date: str | None = Field(description="Publication date.", examples=["2022-07-08"])
    chunk_id: str = Field(description="Id of the passage.", examples=[f"{_ARTICLE_ID}:3"])
    heading: str | None = Field(
        None, description="Section heading above the passage.", examples=["一、产业互联网老卡壳"]
    )
    text: str = Field(description="Passage text.", examples=[_PASSAGE])
    start: int = Field(description="Start offset in the article text.", examples=[120])
    end: int = Field(description="End offset (exclusive) in the article text.", examples=[152])


class SearchResponse(BaseModel):
    """Passages matching a query, best first."""

    hits: list[HitOut] = Field(description="Retrieved passages.", examples=[[{"rank": 1, "score": 0.81}]])


class ArticleMetaOut(BaseModel):
    """Metadata of one article."""

    article_id: str = Field(description="Article id.", examples=[_ARTICLE_ID])
    source: str = Field(description="File the article came from.", examples=[f"{_ARTICLE_ID}.txt"])
    title: str = Field(description="Title.", examples=[_TITLE])
    author: str | None = Field(None, description="Author.", examples=["人人都是产品经理"])
    site: str | None = Field(None, description="Publishing site.", examples=["人人都是产品经理"])
    date: str | None = Field(None, description="Publication date.", examples=["2022-07-08"])
    url: str | None = Field(None, description="Original URL.", examples=[None])
    image: str | None = Field(None, description="Header image URL.", examples=["https://example.com/head.jpg"])
    categories: list[str] = Field(default_factory=list, description="Categories.", examples=[["新媒体"]])


class ArticlesResponse(BaseModel):
    """All articles in the index."""

    articles: list[ArticleMetaOut] = Field(
        description="Article metadata, in index order.", examples=[[{"article_id": _ARTICLE_ID, "title": _TITLE}]]
    )


class ChunkOffsets(BaseModel):
    """Where one passage lies in the article text."""

    chunk_id: str = Field(description="Passage id (as in citations).", examples=[f"{_ARTICLE_ID}:3"])
    start: int = Field(description="Start offset.", examples=[120])
    end: int = Field(description="End offset (exclusive).", examples=[152])
    heading: str | None = Field(None, description="Section heading.", examples=["一、产业互联网老卡壳"])


class ArticleResponse(BaseModel):
    """One article: metadata, cleaned text and passage offsets (to highlight a citation)."""

    article: ArticleMetaOut = Field(description="Metadata.", examples=[{"article_id": _ARTICLE_ID, "title": _TITLE}])
    text: str = Field(description="Cleaned article text; offsets refer to it.", examples=["Web2消费互联网卷不动了……"])
    chunks: list[ChunkOffsets] = Field(
        description="Passages in order.", examples=[[{"chunk_id": f"{_ARTICLE_ID}:0", "start": 0, "end": 180}]]
    )


# --- operations ---------------------------------------------------------------------------


class HealthResponse(BaseModel):
    """Liveness."""

    status: Literal["ok"] = Field(description="Always ok while the process serves.", examples=["ok"])


class ReadyResponse(BaseModel):
    """Readiness: the index is loaded."""

    status: Literal["ready"] = Field(description="ready once the index is loaded.", examples=["ready"])
    version: str = Field(description="Loaded index version.", examples=["20240101T120000-ab12cd"])


class ReloadResponse(BaseModel):
    """Result of swapping in the newest index version."""

    version: str = Field(description="Index version now serving.", examples=["20240102T080000-ef34ab"])
    previous: str | None = Field(description="Version served before the reload.", examples=["20240101T120000-ab12cd"])


class StatsResponse(BaseModel):
    """Engine statistics (articles, chunks, version, embedder, defaults)."""

    stats: dict[str, Any] = Field(
        description="What Engine.stats() reports.", examples=[{"articles": 5, "chunks": 120, "version": "v1"}]
    )


# --- OpenAI-compatible --------------------------------------------------------------------


class OpenAIContentPart(BaseModel):
    """A part of a multi-part message; only text parts are read."""

    model_config = ConfigDict(extra="allow", strict=True)

    type: str = Field(description="Part type; only text is used.", examples=["text"])
    text: Text | None = Field(None, description="Text of a text part.", examples=[_QUESTION])


class OpenAIMessage(BaseModel):
    """A chat message in OpenAI's format."""

    model_config = ConfigDict(extra="allow", strict=True)

    role: Literal["system", "developer", "user", "assistant", "tool"] = Field(
        description="Author role.", examples=["user"]
    )
    content: Text | list[OpenAIContentPart] | None = Field(
        None, description="Text, or a list of content parts.", examples=[_QUESTION]
    )

    def text(self) -> str:
        """The message text, joining text parts."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class ChatCompletionRequest(BaseModel):
    """OpenAI chat-completions request; unknown OpenAI parameters are accepted and ignored."""

    model_config = ConfigDict(extra="allow", strict=True)

    model: str = Field(
        "rag", description="Model id (see /v1/models); any value is answered by the corpus.", examples=["rag"]
    )
    messages: list[OpenAIMessage] = Field(
        min_length=1,
        description="Conversation; the last user message is the question.",
        examples=[[{"role": "user", "content": _QUESTION}]],
    )
    stream: bool | None = Field(False, description="Stream chat.completion.chunk events (null = false).", examples=[False])
    mode: ModeIn | None = Field(None, description="Extension: auto, llm or retrieval.", examples=["auto"])
    top_k: int | None = Field(None, ge=1, le=50, description="Extension: passages to retrieve.", examples=[5])


class ChatCompletionMessage(BaseModel):
    """The assistant message of a completion."""

    role: Literal["assistant"] = Field(description="Always assistant.", examples=["assistant"])
    content: str = Field(
        description="Answer text followed by a 来源 list of the cited articles.",
        examples=["产业互联网面向企业[1]。\n\n来源：\n[1] 从Web2到Web3 — 人人都是产品经理，2022-07-08"],
    )


class ChatCompletionChoice(BaseModel):
    """One choice (there is always exactly one)."""

    index: int = Field(description="Choice index.", examples=[0])
    message: ChatCompletionMessage = Field(description="The answer.", examples=[{"role": "assistant", "content": "……"}])
    finish_reason: Literal["stop"] = Field(description="Why generation ended.", examples=["stop"])


class Usage(BaseModel):
    """Token usage (not measured here; zeros)."""

    prompt_tokens: int = Field(description="Prompt tokens.", examples=[0])
    completion_tokens: int = Field(description="Completion tokens.", examples=[0])
    total_tokens: int = Field(description="Total tokens.", examples=[0])


class RagInfo(BaseModel):
    """Extension: how the answer was produced."""

    mode: Literal["llm", "retrieval"] = Field(description="What produced the text.", examples=["retrieval"])
    grounded: bool = Field(description="Cites supporting passages.", examples=[True])
    degraded: str | None = Field(description="Fallback reason, if any.", examples=[None])
    refused: bool = Field(description="Nothing relevant was found.", examples=[False])


class ChatCompletion(BaseModel):
    """OpenAI chat.completion with the citations in an extra top-level field."""

    id: str = Field(description="Completion id.", examples=["chatcmpl-0123456789abcdef"])
    object: Literal["chat.completion"] = Field(description="Object type.", examples=["chat.completion"])
    created: int = Field(description="Unix time of creation.", examples=[1700000000])
    model: str = Field(description="Model id.", examples=["rag"])
    choices: list[ChatCompletionChoice] = Field(description="The single choice.", examples=[[{"index": 0}]])
    usage: Usage = Field(
        description="Token usage.", examples=[{"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}]
    )
    citations: list[CitationOut] = Field(description="Extension: the cited passages.", examples=[[_CITATION_EXAMPLE]])
    rag: RagInfo = Field(description="Extension: answer mode and grounding.", examples=[{"mode": "retrieval"}])


class ModelCard(BaseModel):
    """One model in /v1/models."""

    id: str = Field(description="Model id.", examples=["rag"])
    object: Literal["model"] = Field(description="Object type.", examples=["model"])
    created: int = Field(description="Unix time.", examples=[1700000000])
    owned_by: str = Field(description="Owner.", examples=["rag"])


class ModelList(BaseModel):
    """Models served by this endpoint."""

    object: Literal["list"] = Field(description="Object type.", examples=["list"])
    data: list[ModelCard] = Field(description="The models.", examples=[[{"id": "rag", "object": "model"}]])
