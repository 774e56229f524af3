"""OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``, citations kept in text and in a field."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, MetricsDep, SettingsDep, split_conversation
from api.errors import ApiError
from api.metrics import Metrics
from api.schemas import ChatCompletion, ChatCompletionRequest, ErrorResponse, ModelCard, ModelList
from api.streaming import relay, start_stream
from rag import Answer, Citation, Delta, Done, Retrieved, StreamEvent, source_lines, strip_markers

router = APIRouter(prefix="/v1", tags=["openai"])

MODEL_ID = "rag"
# Shown when the model's stream broke midway: its text cannot be taken back from the client.
RESTART_NOTE = "\n\n（模型回答中断，以下是从文章中摘录的回答）\n\n"
_SPACE = re.compile(r"\s+")


def _same_words(a: str, b: str) -> bool:
    """Equal apart from citation markers and whitespace (what verification changes)."""
    return _SPACE.sub("", strip_markers(a)) == _SPACE.sub("", strip_markers(b))


def _numbered_as_streamed(answer: Answer, streamed: dict[str | None, int]) -> tuple[Citation, ...]:
    """The answer's citations under the numbers the streamed text used (before verification
    renumbered them): those the first event announced for each passage."""
    return tuple(replace(c, n=streamed.get(c.chunk_id, c.n)) for c in answer.citations)


def sources_text(citations: Sequence[Citation]) -> str:
    """The 来源 list appended for clients that only show text: ``[1] 标题 — 作者，日期``."""
    return "\n\n来源：\n" + "\n".join(source_lines(citations)) if citations else ""


def _rag_info(answer: Answer) -> dict[str, Any]:
    return {"mode": answer.mode, "grounded": answer.grounded, "degraded": answer.degraded, "refused": answer.refused}


def completion(answer: Answer, completion_id: str, created: int) -> dict[str, Any]:
    """A ``chat.completion`` object for one answer."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer + sources_text(answer.citations)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": [c.to_dict() for c in answer.citations],
        "rag": _rag_info(answer),
    }


async def completion_chunks(
    events: Iterator[StreamEvent], metrics: Metrics, completion_id: str, created: int
) -> AsyncIterator[ServerSentEvent]:
    """Engine events as ``chat.completion.chunk`` data lines, ending with ``[DONE]``."""

    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> ServerSentEvent:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            **extra,
        }
        return _data(payload)

    shown = ""  # answer text the client has received since the last restart
    numbers: dict[str | None, int] = {}  # passage -> the [n] the streamed text uses for it

    async def render(event: StreamEvent) -> AsyncIterator[ServerSentEvent]:
        nonlocal shown, numbers
        if isinstance(event, Retrieved):
            numbers = {c.chunk_id: c.n for c in event.citations}
        elif isinstance(event, Delta) and event.text:
            text = event.text
            if event.restart and shown:
                text, shown = RESTART_NOTE + text, ""
            shown += event.text
            yield chunk({"content": text})
        elif isinstance(event, Done):
            answer = event.answer
            metrics.observe_answer(answer)
            # Done.answer is authoritative, but text already sent cannot be taken back.
            citations = answer.citations
            if answer.answer != shown:
                if _same_words(answer.answer, shown):
                    # Verification only renumbered or dropped markers: the client keeps the
                    # streamed numbers, so the sources are listed under them.
                    citations = _numbered_as_streamed(answer, numbers)
                elif answer.answer.startswith(shown):
                    yield chunk({"content": answer.answer[len(shown) :]})
                else:
                    yield chunk({"content": "\n\n" + answer.answer})
            sources = sources_text(citations)
            if sources:
                yield chunk({"content": sources})
            yield chunk({}, "stop", citations=[c.to_dict() for c in citations], rag=_rag_info(answer))

    yield chunk({"role": "assistant", "content": ""})
    async for item in relay(events, render, _data):
        yield item
    yield ServerSentEvent("[DONE]", sep="\n")


def _data(payload: dict[str, Any]) -> ServerSentEvent:
    """An unnamed SSE event carrying compact JSON, as OpenAI sends it."""
    return ServerSentEvent(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), sep="\n")


def _model_card(request: Request) -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": request.app.state.created, "owned_by": "rag"}


@router.get("/models", response_model=ModelList, summary="Models (OpenAI-compatible)")
async def list_models(request: Request) -> dict:
    """The single model: the article corpus."""
    return {"object": "list", "data": [_model_card(request)]}


@router.get(
    "/models/{model_id}",
    response_model=ModelCard,
    responses={404: {"model": ErrorResponse}},
    summary="One model (OpenAI-compatible)",
)
async def retrieve_model(model_id: str, request: Request) -> dict:
    """The corpus model by its id; other ids do not exist."""
    if model_id != MODEL_ID:
        raise ApiError(404, "model_not_found", f"没有名为 {model_id} 的模型，可用的模型是 {MODEL_ID}。")
    return _model_card(request)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {
            "content": {
                "text/event-stream": {"example": 'data: {"object": "chat.completion.chunk", ...}\n\ndata: [DONE]'}
            }
        },
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
    },
    summary="Chat completion (OpenAI-compatible)",
)
async def chat_completions(body: ChatCompletionRequest, engine: EngineDep, settings: SettingsDep, metrics: MetricsDep):
    """Answer the last user message from the articles, in OpenAI's format, with citations."""
    turns = [("system" if m.role == "developer" else m.role, m.text()) for m in body.messages]
    question, history = split_conversation(turns, settings)
    mode = body.mode or settings.mode
    completion_id = "chatcmpl-" + uuid.uuid4().hex
    created = int(time.time())
    if not body.stream:
        answer = await run_in_threadpool(engine.ask, question, history, mode, body.top_k)
        metrics.observe_answer(answer)
        return JSONResponse(completion(answer, completion_id, created))
    events = await start_stream(engine, question, history, mode, body.top_k)
    return EventSourceResponse(completion_chunks(events, metrics, completion_id, created), sep="\n")
