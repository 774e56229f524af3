"""``create_app(settings)``: the FastAPI app over one Engine, loaded once at start-up; ``serve`` runs it."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import SecretStr

from api.errors import ApiError, InternalErrorMiddleware, from_rag_error, install_error_handlers
from api.indexing import Indexing
from api.memory import release_memory, tune_malloc
from api.metrics import Metrics, MetricsMiddleware
from api.routes import admin, articles, ask, chat, documents, feedback, health, openai_compat, search
from api.security import ADMIN_PREFIX, PROTECTED_PREFIXES, AccessMiddleware
from api.switching import follow_index
from rag import Engine, QuestionLog, RagError, Settings

log = logging.getLogger(__name__)

# `rag serve --workers N` hands its settings to the worker processes through this variable.
SETTINGS_ENV = "RAG_SERVE_SETTINGS_JSON"

DESCRIPTION = (
    "Question answering over Chinese articles about 产业互联网, with citations. "
    "Public routes take `Authorization: Bearer <key>` when RAG_API_KEYS is set; "
    'errors are `{"error": {"code", "message"}}` with a Chinese message.'
)


async def _load_engine(app: FastAPI) -> None:
    """Open the index off the event loop so /healthz answers (and /readyz says 503) meanwhile."""
    settings: Settings = app.state.settings
    start = time.perf_counter()
    try:
        engine = await anyio.to_thread.run_sync(partial(Engine.open, settings, background=True), abandon_on_cancel=True)
    except RagError as exc:
        app.state.load_error = from_rag_error(exc)
        log.error("cannot load the index from %s: %s", settings.index_dir, exc)
        return
    except Exception:
        app.state.load_error = ApiError(503, "load_failed", "索引加载失败，请查看服务日志。")
        log.exception("cannot load the index from %s", settings.index_dir)
        return
    # A reload may have finished first; never replace a newer engine with this one.
    if app.state.engine is None:
        app.state.engine = engine
        app.state.metrics.ready.set(1)
    log.info("index %s loaded in %.2f s", engine.version, time.perf_counter() - start)


async def _resume_jobs(app: FastAPI) -> None:
    """Re-index for the indexing jobs the last stop interrupted; never fails the start."""
    try:
        await anyio.to_thread.run_sync(app.state.indexing.recover)
    except Exception:
        log.exception("cannot recover the interrupted indexing jobs")


# How often a worker looks for jobs a dead process left (another worker killed, a stop that
# overlapped this worker's start): see ``JobRunner.recover``.
RECOVER_SECONDS = 30.0


async def _recover_now_and_then(app: FastAPI) -> None:
    while True:
        await anyio.sleep(RECOVER_SECONDS)
        await _resume_jobs(app)


async def _serve_index(app: FastAPI) -> None:
    """Load the index unless an engine was given, resume interrupted indexing jobs (only now: with
    the served model, after the start-up load), then follow ``CURRENT`` to newer versions and
    return memory after bursts (measured from the loaded resting level on)."""
    if app.state.engine is None:
        await _load_engine(app)
    await _resume_jobs(app)
    period = app.state.settings.index_check_seconds
    async with anyio.create_task_group() as tg:
        tg.start_soon(release_memory)
        tg.start_soon(_recover_now_and_then, app)
        if period > 0:
            tg.start_soon(follow_index, app, period)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    tune_malloc()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_serve_index, app)
        yield
        # Shutting down (maybe before the index finished loading): stop loading and watching.
        tg.cancel_scope.cancel()


@asynccontextmanager
async def _lifespan_with_jobs(app: FastAPI) -> AsyncIterator[None]:
    """``_lifespan``, then stop the indexing worker: a running job ends at its next safe point and
    leaves the served index intact."""
    try:
        async with _lifespan(app):
            yield
    finally:
        await anyio.to_thread.run_sync(app.state.indexing.close)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; with ``engine`` it is ready at once, else the lifespan opens one from ``settings``."""
    settings = settings if settings is not None else Settings()
    app = FastAPI(
        title="产业互联网文章问答 API",
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=_lifespan_with_jobs,
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN; /docs is served locally below.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.load_error = None
    app.state.metrics = Metrics()
    app.state.metrics.ready.set(1 if engine is not None else 0)
    app.state.reload_lock = threading.Lock()  # api.switching: one engine switch at a time
    app.state.created = int(time.time())
    app.state.indexing = Indexing(app)
    app.state.qlog = _question_log(settings)

    install_error_handlers(app)
    routers = [
        health.router,
        ask.router,
        chat.router,
        search.router,
        articles.router,
        openai_compat.router,
        admin.router,
        documents.router,
        feedback.router,
        feedback.admin_router,
    ]
    for router in routers:
        app.include_router(router)
    # For the Allow header of a 405 (api/errors.py): FastAPI keeps included routers nested.
    app.state.route_methods = [(r.path_regex, frozenset(r.methods)) for router in routers for r in router.routes
                               if isinstance(r, APIRoute)]
    _include_widget(app)
    _include_docs(app)

    # Added innermost first: CORS is outermost so that 401/413/429/500 answers carry CORS headers too.
    app.add_middleware(InternalErrorMiddleware)
    app.add_middleware(AccessMiddleware, settings=settings)
    app.add_middleware(
        MetricsMiddleware, metrics=app.state.metrics, routes=[route for router in routers for route in router.routes]
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _question_log(settings: Settings) -> QuestionLog | None:
    """The question log unless opted out; it is told the secrets it must never store."""
    if not settings.question_log:
        return None
    secrets = [*settings.api_keys, *(s.get_secret_value() for s in (settings.admin_token, settings.openai_api_key) if s)]
    return QuestionLog(settings.question_log_url, settings.question_log_retention_days, secrets)


DOCS_ASSETS = "/docs-assets"


def _include_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the files of the swagger-ui-bundle-v2 package: it works offline."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        log.warning("swagger-ui-bundle-v2 is not installed: /docs is not served (/openapi.json is)")
        return
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=app.title + " - 文档",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def _include_widget(app: FastAPI) -> None:
    # The widget router is optional so that the API works while it is being written.
    try:
        from api.routes import widget
    except ImportError:
        log.warning("api.routes.widget is missing: /widget.js and / are not served")
        return
    app.include_router(widget.router)


# Answers any route may give besides its own, documented once here (see AccessMiddleware and
# api/errors.py): the schema then lists every status the server can send.
_ERROR_REF = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
_COMMON_ERRORS = {
    "401": "Missing or wrong API key (RAG_API_KEYS) or admin token.",
    "413": "Request body larger than RAG_MAX_BODY_BYTES.",
    "415": "Request body is not JSON.",
    "429": "Rate limit reached (RAG_RATE_LIMIT_PER_MINUTE); see Retry-After.",
    "503": "The index is not loaded (starting, missing or damaged).",
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document as this configuration behaves: the bearer schemes that the middleware
    enforces (API keys only when RAG_API_KEYS is set), every error status, the question length."""
    if app.openapi_schema:
        return app.openapi_schema
    settings: Settings = app.state.settings
    with warnings.catch_warnings():
        # /healthz and /readyz are one route for GET and HEAD (so that a 405 lists both): FastAPI
        # gives both operations the route's id; they are told apart below.
        warnings.filterwarnings("ignore", message="Duplicate Operation ID")
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    seen: set[str] = set()
    components = schema.setdefault("components", {})
    schemes = components.setdefault("securitySchemes", {})
    schemes["apiKey"] = {"type": "http", "scheme": "bearer", "description": "One of RAG_API_KEYS (when set)."}
    schemes["adminToken"] = {"type": "http", "scheme": "bearer", "description": "RAG_ADMIN_TOKEN."}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if operation.get("operationId") in seen:
                operation["operationId"] = f"{operation['operationId']}_{method}"
            seen.add(operation.get("operationId"))
            responses = operation.setdefault("responses", {})
            codes = []
            if path.startswith(ADMIN_PREFIX):
                operation["security"] = [{"adminToken": []}]
                codes += ["401", "429"]
            elif path.startswith(PROTECTED_PREFIXES):
                if settings.api_keys:
                    operation["security"] = [{"apiKey": []}]
                    codes.append("401")
                if settings.rate_limit_per_minute > 0:
                    codes.append("429")
                codes.append("503")
            if method in ("post", "put", "patch"):
                codes += ["413", "415"]
            for code in codes:
                responses.setdefault(code, {"description": _COMMON_ERRORS[code], **_ERROR_REF})
    # The longest question is a setting: state the one this server applies.
    props = components.get("schemas", {}).get("AskRequest", {}).get("properties", {})
    if "question" in props:
        props["question"]["maxLength"] = settings.max_question_chars
    for param in schema.get("paths", {}).get("/api/search", {}).get("get", {}).get("parameters", []):
        if param.get("name") == "q":
            param["schema"]["maxLength"] = settings.max_question_chars
    app.openapi_schema = schema
    return schema


def settings_to_json(settings: Settings) -> str:
    """Serialize settings, secrets included, for worker processes (see :func:`settings_from_env`)."""
    data = {
        key: value.get_secret_value() if isinstance(value, SecretStr) else value
        for key, value in settings.model_dump().items()
    }
    return json.dumps(data, default=str)


def settings_from_env() -> Settings:
    """Settings handed over by :func:`serve`, else built from the ``RAG_*`` environment."""
    raw = os.environ.get(SETTINGS_ENV)
    return Settings(**json.loads(raw)) if raw else Settings()


def limit_openmp(settings: Settings) -> None:
    """Cap OpenMP threads at ``settings.embed_threads`` unless OMP_NUM_THREADS is set already.

    Requests already run in parallel (threads, workers); OpenMP teams inside the embedder on top of
    that spin against each other and any busy core: measured 1.7 s instead of 18 ms per query on
    2 cores. Must run before the embedder loads its OpenMP runtime (it does so in Engine.open).
    """
    os.environ.setdefault("OMP_NUM_THREADS", str(settings.embed_threads))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Forwarded-header handling for uvicorn: off unless ``RAG_TRUSTED_PROXIES`` names the proxies.

    uvicorn's own default trusts ``X-Forwarded-For`` from 127.0.0.1, so every local client (or a
    same-host proxy that passes the header through) could choose the address that the rate limit
    and the failed-key throttle count against.
    """
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(settings.trusted_proxies)}


def serve(settings: Settings, host: str | None = None, port: int | None = None, workers: int = 1) -> None:
    """Run the API with uvicorn (blocking); ``workers > 1`` starts that many processes."""
    import uvicorn

    host = host or settings.host
    port = settings.port if port is None else port
    limit_openmp(settings)
    if workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=port, **uvicorn_options(settings))
        return
    from uvicorn.supervisors import Multiprocess

    # Worker processes import the app by name, so the settings travel through the environment.
    os.environ[SETTINGS_ENV] = settings_to_json(settings)
    config = uvicorn.Config("api.main:app", factory=True, host=host, port=port, workers=workers,
                            **uvicorn_options(settings))
    # uvicorn.run would bind a socket without proto=IPPROTO_TCP; asyncio then skips TCP_NODELAY on
    # accepted connections and every keep-alive response waits ~40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    logging.getLogger("uvicorn.error").info(
        "serving on http://%s:%d with %d worker processes", host, sock.getsockname()[1], workers
    )
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
