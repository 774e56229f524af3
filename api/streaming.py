"""The streaming logic /api/chat and /v1/chat/completions share: start the engine's stream so that
errors raised up front are HTTP errors, then relay its events and end a failure midway with one
error payload."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from itertools import chain
from typing import Any, TypeVar

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from api.errors import from_rag_error
from rag import Engine, Message, Mode, RagError, StreamEvent

log = logging.getLogger(__name__)
T = TypeVar("T")

# A failure that is not the library's (a bug): the client gets this, the log the traceback.
STREAM_FAILED: dict[str, Any] = {"error": {"code": "stream_failed", "message": "生成回答时出错，请重试。"}}


async def start_stream(engine: Engine, question: str, history: Sequence[Message], mode: Mode,
                       top_k: int | None) -> Iterator[StreamEvent]:
    """``engine.stream`` with its first event already pulled (in the threadpool), before the route
    answers 200: a bad question or a retrieval failure is then a proper HTTP error, not an error event."""
    events = engine.stream(question, history, mode=mode, top_k=top_k)
    first = await run_in_threadpool(next, events, None)
    return chain([first], events) if first is not None else iter(())


async def relay(events: Iterator[StreamEvent], render: Callable[[StreamEvent], AsyncIterator[T]],
                error: Callable[[dict[str, Any]], T]) -> AsyncIterator[T]:
    """What ``render`` makes of each event (pulled in the threadpool: the engine blocks); a failure
    midway, in the engine or in ``render``, ends the stream with ``error(body)``."""
    try:
        async for event in iterate_in_threadpool(events):
            async for item in render(event):
                yield item
    except RagError as exc:
        log.warning("answer stream failed: %s", exc)
        yield error(from_rag_error(exc).body())
    except Exception:
        log.exception("answer stream failed")
        yield error(STREAM_FAILED)
