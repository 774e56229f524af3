"""Operations routes: ``/healthz`` (liveness), ``/readyz`` (index loaded), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.deps import MetricsDep
from api.errors import error_body
from api.metrics import CONTENT_TYPE
from api.schemas import ErrorResponse, HealthResponse, ReadyResponse

router = APIRouter(tags=["operations"])


# HEAD too: load balancers and uptime checks often probe with it. One route for both methods, so
# that a 405 (OPTIONS /healthz) lists them both in Allow, as the schema does.
@router.api_route("/healthz", methods=["GET", "HEAD"], response_model=HealthResponse, summary="Liveness")
async def healthz() -> dict:
    """Answers while the process serves, even before the index is loaded."""
    return {"status": "ok"}


@router.api_route(
    "/readyz",
    methods=["GET", "HEAD"],
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
