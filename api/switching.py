"""Switching the served engine to the newest index version: on ``/api/admin/reload`` and by itself.

Every server process (each worker of ``rag serve --workers N``) reads the index's small ``CURRENT``
pointer every ``RAG_INDEX_CHECK_SECONDS`` and switches when it names another version, so an
ingest reaches all workers without a restart or an admin call.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import anyio
from fastapi import FastAPI

from api.errors import from_rag_error
from rag.engine import Engine
from rag.errors import IndexNotFoundError, RagError
from rag.index.store import POINTER

log = logging.getLogger(__name__)

# A version that failed to load is tried again after this long (a Milvus server that was down at
# start-up comes back; a damaged version is not reloaded every second).
RETRY_SECONDS = 30.0


def switch_now(app: FastAPI) -> tuple[Engine, Engine | None]:
    """Open the newest index version and serve it; returns ``(new, previous)``. Blocking: for a
    worker thread (an indexing job, or :func:`switch_to_newest`); one switch at a time per process.

    Requests already running finish on the previous engine. Raises (OSError, RagError) when the
    newest version cannot be loaded; the previous engine then keeps serving.
    """
    state = app.state
    with state.reload_lock:
        previous: Engine | None = state.engine
        # The settings did not change: reuse the loaded models and the LLM connection pool.
        engine = previous.reopened() if previous is not None else Engine.open(state.settings)
        # One attribute assignment: a request sees either the old engine or the new one, never a mix.
        state.engine = engine
        state.load_error = None
    state.metrics.reloads.inc()
    state.metrics.ready.set(1)
    return engine, previous


async def switch_to_newest(app: FastAPI) -> tuple[Engine, Engine | None]:
    """:func:`switch_now` from the event loop (in a worker thread)."""
    return await anyio.to_thread.run_sync(switch_now, app)


def _read_pointer(pointer: Path) -> str | None:
    try:
        return pointer.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


async def follow_index(app: FastAPI, period: float) -> None:
    """Every ``period`` seconds, switch to the version ``CURRENT`` names if it is not the one served.

    Runs until cancelled. A version that fails to load (damaged, or its backend unreachable) is
    tried again after ``RETRY_SECONDS``, not every period; one whose files are not in place yet is
    looked at again next period.
    """
    pointer = Path(app.state.settings.index_dir) / POINTER
    failed: str | None = None  # the version that failed to load last ...
    retry_at = 0.0  # ... and when to try it again
    while True:
        await anyio.sleep(period)
        name = await anyio.to_thread.run_sync(_read_pointer, pointer)
        engine = app.state.engine
        if name is None or (engine is not None and engine.version == name):
            continue
        if name == failed and time.monotonic() < retry_at:
            continue
        try:
            engine, previous = await switch_to_newest(app)
        except IndexNotFoundError:
            continue  # CURRENT names a version whose files are not in place yet: look again
        except Exception as exc:  # a bug, too, must not end the task group and with it the server
            failed, retry_at = name, time.monotonic() + RETRY_SECONDS
            if isinstance(exc, (OSError, RagError)):
                log.error("index version %s cannot be loaded; the served version stays: %s", name, exc)
            else:
                log.exception("switching to index version %s failed; trying again in %d s", name, RETRY_SECONDS)
            if app.state.engine is None and isinstance(exc, RagError):
                app.state.load_error = from_rag_error(exc)
            continue
        failed = None
        log.info("worker %d switched index version %s -> %s", os.getpid(),
                 previous.version if previous else None, engine.version)
