"""``POST /api/chat``: a stateless chat turn, as JSON or as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, JSONServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, MetricsDep, SettingsDep, split_conversation
from api.metrics import Metrics
from api.routes.feedback import record_answer
from api.schemas import AnswerOut, ChatRequest, ErrorResponse
from api.streaming import relay, start_stream
from rag import Answer, Delta, Done, Retrieved, StreamEvent

router = APIRouter(tags=["answers"])

_SSE_DOC = (
    'event: citations\ndata: {"citations": [...]}\n\n'
    'event: delta\ndata: {"text": "..."}\n\n'  # {"text": "...", "restart": true}: drop the text so far
    'event: done\ndata: {"answer": "...", "citations": [...], "mode": "retrieval", ...}\n\n'
)


def sse(event: str, data: dict) -> JSONServerSentEvent:
    """One named SSE event with a JSON payload, lines ending in a bare newline."""
    return JSONServerSentEvent(data, event=event, sep="\n")


async def chat_events(events: Iterator[StreamEvent], metrics: Metrics,
                      record: Callable[[Answer], str | None] | None = None) -> AsyncIterator[JSONServerSentEvent]:
    """Map engine stream events to the SSE contract; a failure midway becomes one ``error`` event.

    ``record`` logs the finished answer; its id goes out in the ``done`` event as ``feedback_id``.
    """

    async def render(event: StreamEvent) -> AsyncIterator[JSONServerSentEvent]:
        if isinstance(event, Retrieved):
            yield sse("citations", {"citations": [c.to_dict() for c in event.citations]})
        elif isinstance(event, Delta) and (event.text or event.restart):  # empty: the model is writing
            yield sse("delta", {"text": event.text, "restart": True} if event.restart else {"text": event.text})
        elif isinstance(event, Done):
            metrics.observe_answer(event.answer)
            feedback_id = await run_in_threadpool(record, event.answer) if record is not None else None
            yield sse("done", {**event.answer.to_dict(), "feedback_id": feedback_id})

    async for item in relay(events, render, lambda body: sse("error", body)):
        yield item


@router.post(
    "/api/chat",
    response_model=AnswerOut,
    responses={
        200: {
            "description": "The answer as JSON, or with stream=true Server-Sent Events.",
            "content": {"text/event-stream": {"example": _SSE_DOC}},
        },
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
    },
    summary="Chat turn (optionally streamed)",
)
async def chat(body: ChatRequest, engine: EngineDep, settings: SettingsDep, metrics: MetricsDep, request: Request):
    """Answer the last user message given the earlier ones; the client sends the whole history."""
    question, history = split_conversation([(m.role, m.content) for m in body.messages], settings)
    mode = body.mode or settings.mode
    if not body.stream:
        answer = await run_in_threadpool(engine.ask, question, history, mode, body.top_k)
        metrics.observe_answer(answer)
        feedback_id = await run_in_threadpool(record_answer, request, question, answer, "chat")
        return JSONResponse({**answer.to_dict(), "feedback_id": feedback_id})
    events = await start_stream(engine, question, history, mode, body.top_k)

    def record(answer: Answer) -> str | None:
        return record_answer(request, question, answer, "chat")

    return EventSourceResponse(chat_events(events, metrics, record), sep="\n")
