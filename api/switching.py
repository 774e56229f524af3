"""Switching the served engine to the newest index version: on ``/api/admin/reload`` and by itself.

Every server process (each worker of ``rag serve --workers N``) reads the index's small ``CURRENT``
pointer every ``RAG_INDEX_CHECK_SECONDS`` and switches when it names another version, so an
ingest reaches all workers without a restart or an admin call.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import anyio
from fastapi import FastAPI

from api.errors import from_rag_error
from rag.engine import Engine
from rag.errors import IndexNotFoundError, RagError
from rag.index.store import POINTER

log = logging.getLogger(__name__)


async def switch_to_newest(app: FastAPI) -> tuple[Engine, Engine | None]:
    """Open the newest index version and serve it; returns ``(new, previous)``.

    Requests already running finish on the previous engine. Raises (OSError, RagError) when the
    newest version cannot be loaded; the previous engine then keeps serving.
    """
    state = app.state
    async with state.reload_lock:
        previous: Engine | None = state.engine
        if previous is not None:
            # The settings did not change: reuse the loaded models and the LLM connection pool.
            engine = await anyio.to_thread.run_sync(previous.reopened)
        else:
            engine = await anyio.to_thread.run_sync(Engine.open, state.settings)
        # One attribute assignment: a request sees either the old engine or the new one, never a mix.
        state.engine = engine
        state.load_error = None
    state.metrics.reloads.inc()
    state.metrics.ready.set(1)
    return engine, previous


def _read_pointer(pointer: Path) -> str | None:
    try:
        return pointer.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


async def follow_index(app: FastAPI, period: float) -> None:
    """Every ``period`` seconds, switch to the version ``CURRENT`` names if it is not the one served.

    Runs until cancelled. A version that fails to load is not retried until ``CURRENT`` changes
    again (a damaged one would fail every time), except a version that is not there yet.
    """
    pointer = Path(app.state.settings.index_dir) / POINTER
    engine = app.state.engine
    # The version tried last: the served one, or the one the start-up load failed on.
    tried = engine.version if engine is not None else await anyio.to_thread.run_sync(_read_pointer, pointer)
    while True:
        await anyio.sleep(period)
        name = await anyio.to_thread.run_sync(_read_pointer, pointer)
        engine = app.state.engine
        if name is None or name == tried or (engine is not None and engine.version == name):
            continue
        tried = name
        try:
            engine, previous = await switch_to_newest(app)
        except IndexNotFoundError:
            tried = None  # CURRENT names a version whose files are not in place yet: look again
            continue
        except (OSError, RagError) as exc:
            log.error("index version %s cannot be loaded; the served version stays: %s", name, exc)
            if app.state.engine is None and isinstance(exc, RagError):
                settings = app.state.settings
                app.state.load_error = from_rag_error(exc, max_question_chars=settings.max_question_chars)
            continue
        except Exception:  # a bug must not end the task group, and with it the server
            log.exception("switching to index version %s failed", name)
            continue
        log.info("worker %d switched index version %s -> %s", os.getpid(),
                 previous.version if previous else None, engine.version)
