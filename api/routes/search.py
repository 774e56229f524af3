"""``GET /api/search``: retrieved passages without an answer."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import EngineDep, MetricsDep
from api.schemas import NOT_BLANK, ErrorResponse, SearchResponse, Text

router = APIRouter(tags=["search"])


@router.get(
    "/api/search",
    response_model=SearchResponse,
    responses={400: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    summary="Search passages",
)
def search(
    engine: EngineDep,
    metrics: MetricsDep,
    q: Annotated[Text, Query(description="Search text.", examples=["产业互联网 Web3"], json_schema_extra=NOT_BLANK)],
    k: Annotated[int | None, Query(ge=1, le=50, description="Number of passages.", examples=[5])] = None,
) -> dict:
    """The best passages for ``q`` (the shape of ``rag search --json``)."""
    start = time.perf_counter()
    hits = engine.search(q, k=k)
    metrics.retrieval.observe(time.perf_counter() - start)
    return {"hits": [hit.to_dict() for hit in hits]}
