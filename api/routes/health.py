"""Operations routes: ``/healthz`` (liveness), ``/readyz`` (index loaded), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.deps import MetricsDep
from api.errors import error_body
from api.metrics import CONTENT_TYPE
from api.schemas import ErrorResponse, HealthResponse, ReadyResponse

router = APIRouter(tags=["operations"])


# HEAD too (out of the schema): load balancers and uptime checks often probe with it.
@router.get("/healthz", response_model=HealthResponse, summary="Liveness")
@router.head("/healthz", include_in_schema=False, response_model=None)
async def healthz() -> dict:
    """Answers while the process serves, even before the index is loaded."""
    return {"status": "ok"}


@router.head("/readyz", include_in_schema=False, response_model=None)
@router.get(
    "/readyz",
    response_model=ReadyResponse,
    responses={503: {"model": ErrorResponse, "description": "The index is not loaded (yet)."}},
    summary="Readiness",
)
async def readyz(request: Request) -> dict | JSONResponse:
    """200 once the index is loaded; 503 while loading or when loading failed."""
    engine = request.app.state.engine
    if engine is not None:
        return {"status": "ready", "version": engine.version}
    failure = request.app.state.load_error
    if failure is not None:
        return JSONResponse(error_body(failure.code, failure.message), status_code=503)
    return JSONResponse(error_body("not_ready", "服务正在加载索引，请稍后再试。"), status_code=503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text exposition."""
    return Response(metrics.render(), media_type=CONTENT_TYPE)
