"""Admin routes (``RAG_ADMIN_TOKEN``): reload the newest index version without dropping requests."""

from __future__ import annotations

import logging
import os

from fastapi import APIRouter, Request

from api.deps import AdminDep, EngineDep
from api.errors import ApiError
from api.schemas import ErrorResponse, ReloadResponse, StatsResponse
from api.switching import switch_to_newest

log = logging.getLogger(__name__)
router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[AdminDep],
    responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
)


@router.post("/reload", response_model=ReloadResponse, summary="Swap in the newest index version",
             responses={503: {"model": ErrorResponse, "description": "The newest version cannot be loaded "
                                                                     "(index_corrupt, index_unreadable, ...); "
                                                                     "the previous one keeps serving."}})
async def reload(request: Request) -> dict:
    """Open the newest index in a new Engine and swap it in; in-flight requests finish on the old one.

    A version that cannot be loaded (damaged, unreadable) is a 503 and the old engine keeps serving.
    """
    try:
        engine, previous = await switch_to_newest(request.app)
    except OSError as exc:
        log.error("reload failed: %s", exc)
        raise ApiError(503, "index_unreadable", "无法读取索引目录，请检查其权限后重试。") from exc
    log.info("index reloaded: %s -> %s", previous.version if previous else None, engine.version)
    return {"version": engine.version, "previous": previous.version if previous else None}


@router.get("/stats", response_model=StatsResponse, summary="Engine statistics")
def stats(engine: EngineDep) -> dict:
    """What the engine reports about the loaded index, and the id of the process that answered
    (each worker of ``rag serve --workers N`` holds its own engine)."""
    return {"stats": {**engine.stats(), "pid": os.getpid()}}
