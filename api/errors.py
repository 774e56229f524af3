"""Turn domain errors and client mistakes into JSON ``{"error": {"code", "message"}}`` with Chinese messages."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import RagError

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "服务器内部错误，请稍后再试。"


class ApiError(Exception):
    """An error with its HTTP status, machine code and Chinese message for the end user."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The JSON body shared by every error response and the SSE ``error`` event."""
        return error_body(self.code, self.message)

    def response(self) -> JSONResponse:
        """This error as a JSON response."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(code: str, message: str) -> dict[str, Any]:
    """``{"error": {"code": ..., "message": ...}}``."""
    return {"error": {"code": code, "message": message}}


# What the user reads for each library error code (``RagError.code``), with the HTTP status and the
# code the API reports; ``{name}`` fields come from the error's ``params``. The one table of them.
RAG_ERRORS: dict[str, tuple[int, str, str]] = {
    "empty_question": (400, "empty_question", "问题不能为空。"),
    "invalid_question": (400, "invalid_question", "问题含有无效的字符。"),
    "question_too_long": (400, "question_too_long", "问题太长了，请控制在 {max_chars} 个字以内。"),
    "article_not_found": (404, "article_not_found", "找不到这篇文章。"),
    "index_not_found": (503, "index_not_found", "索引不存在，请先运行 rag ingest 建立索引。"),
    "index_corrupt": (503, "index_corrupt", "索引文件已损坏，请重新运行 rag ingest 重建索引。"),
    "index_mismatch": (503, "index_mismatch", "索引与当前配置的向量模型不一致，请重新建立索引。"),
    "index_unavailable": (503, "index_unavailable", "索引服务暂时无法访问，请稍后再试。"),
    "embedder_unavailable": (503, "model_unavailable", "模型加载失败，请查看服务日志。"),
    "reranker_unavailable": (503, "model_unavailable", "模型加载失败，请查看服务日志。"),
    "llm_unavailable": (503, "llm_unavailable", "大模型服务暂时不可用，请稍后再试。"),
}


def from_rag_error(exc: RagError) -> ApiError:
    """Map a domain error to an :class:`ApiError` through ``RAG_ERRORS``; errors that are not the
    client's fault are 5xx, and an unknown code is a 500."""
    known = RAG_ERRORS.get(exc.code)
    if known is None:
        return ApiError(500, "internal_error", INTERNAL_MESSAGE)
    status, code, template = known
    return ApiError(status, code, template.format(**exc.params))


# --- validation errors ------------------------------------------------------------------

_TYPE_MESSAGES: dict[str, str] = {
    "missing": "缺少字段：{field}。",
    "string_type": "字段 {field} 应为字符串。",
    "int_type": "字段 {field} 应为整数。",
    "int_parsing": "字段 {field} 应为整数。",
    "int_from_float": "字段 {field} 应为整数。",
    "float_type": "字段 {field} 应为数字。",
    "float_parsing": "字段 {field} 应为数字。",
    "bool_type": "字段 {field} 应为布尔值（true 或 false）。",
    "bool_parsing": "字段 {field} 应为布尔值（true 或 false）。",
    "list_type": "字段 {field} 应为数组。",
    "dict_type": "{field}应为 JSON 对象。",
    "model_type": "{field}应为 JSON 对象。",
    "model_attributes_type": "{field}应为 JSON 对象。",
    "literal_error": "字段 {field} 的取值无效，可选值：{expected}。",
    "enum": "字段 {field} 的取值无效，可选值：{expected}。",
    "greater_than_equal": "字段 {field} 不能小于 {ge}。",
    "greater_than": "字段 {field} 必须大于 {gt}。",
    "less_than_equal": "字段 {field} 不能大于 {le}。",
    "less_than": "字段 {field} 必须小于 {lt}。",
    "too_short": "字段 {field} 至少需要 {min_length} 项。",
    "too_long": "字段 {field} 最多 {max_length} 项。",
    "string_too_short": "字段 {field} 至少需要 {min_length} 个字符。",
    "string_too_long": "字段 {field} 最多 {max_length} 个字符。",
    "invalid_unicode": "字段 {field} 含有无效的 Unicode 字符。",
}


# Union members appear in pydantic locations as tags ("str", "function-after[…]", "list[…]").
_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})


def _field_path(loc: tuple[Any, ...] | list[Any]) -> list[Any]:
    """The field names and indexes of a location, without its source and union-member tags."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return [p for p in parts if isinstance(p, int) or (str(p).isidentifier() and str(p) not in _TYPE_TAGS)]


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "messages", 0, "content")`` -> ``messages[0].content``; the bare body -> ``请求体``."""
    parts = _field_path(loc)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "请求体"


def validation_error(exc: RequestValidationError) -> ApiError:
    """Describe the first validation problem in Chinese: bad JSON is 400, other problems 422."""
    errors = exc.errors()
    if not errors:
        return ApiError(422, "invalid_request", "请求参数无效。")
    first = errors[0]
    if first.get("type") != "json_invalid":
        # A union field reports one error per member: the deepest one under the same field is
        # the member the client meant (a list of parts: "content[0].text", not "content").
        base = _field_path(first.get("loc", ()))
        same_field = [e for e in errors if _field_path(e.get("loc", ()))[: len(base)] == base]
        first = max(same_field, key=lambda e: len(_field_path(e.get("loc", ()))))
    kind = first.get("type", "")
    if kind == "json_invalid":
        return ApiError(400, "bad_json", "请求体不是合法的 JSON。")
    ctx = dict(first.get("ctx") or {})
    if isinstance(ctx.get("expected"), str):
        ctx["expected"] = ctx["expected"].replace(" or ", ", ").replace("', '", "'、'")
    field = _field_name(first.get("loc", ()))
    template = _TYPE_MESSAGES.get(kind, "字段 {field} 的值无效。")
    if field == "请求体" and isinstance(first.get("input"), str | bytes):
        # JSON sent without its content type arrives as text: say what to send.
        template = "请求体应为 JSON 对象，并带上请求头 Content-Type: application/json。"
    try:
        message = template.format(field=field, **ctx)
    except (KeyError, IndexError):
        message = f"字段 {field} 的值无效。"
    return ApiError(422, "invalid_request", message)


_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求无法解析，请发送 UTF-8 编码的 JSON。"),
    401: ("unauthorized", "未授权。"),
    403: ("forbidden", "没有权限访问。"),
    404: ("not_found", "找不到该地址。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
    413: ("body_too_large", "请求体太大。"),
    415: ("unsupported_media_type", "请求体格式不受支持，请使用 application/json。"),
}


# Python's json parser gives up on deeper nesting with RecursionError, which FastAPI reports as
# a bare 400; the client learns the real cause instead of a hint about UTF-8.
_TOO_DEEP = (400, "json_too_deep", "请求体的 JSON 嵌套层数过多，请发送结构简单的 JSON 对象。")


def http_error(exc: StarletteHTTPException) -> ApiError:
    """Translate Starlette's own HTTP errors (404 for unknown paths, 405, ...)."""
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        return ApiError(*_TOO_DEEP)
    code, message = _STATUS_ERRORS.get(exc.status_code, ("http_error", f"请求无法处理（HTTP {exc.status_code}）。"))
    headers = dict(exc.headers) if exc.headers else None
    return ApiError(exc.status_code, code, message, headers)


def _allowed_methods(request: Request) -> str:
    """Every method some API route serves on the request's path, as an Allow header
    (``app.state.route_methods``: path pattern and methods of each route, set by create_app)."""
    methods: set[str] = set()
    for pattern, route_methods in getattr(request.app.state, "route_methods", ()):
        if pattern.match(request.url.path):
            methods.update(route_methods)
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers so that every error leaves the app in the one JSON error shape."""

    async def on_api_error(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    async def on_rag_error(request: Request, exc: RagError) -> JSONResponse:
        error = from_rag_error(exc)
        if error.status >= 500:
            log.error("request failed: %s", exc, exc_info=exc)
        return error.response()

    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_error(exc).response()

    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = http_error(exc)
        if exc.status_code == 405:
            # Starlette lists the methods of the first route on the path only; a path served by
            # several routes (GET and POST /api/admin/documents) allows all of theirs.
            allowed = _allowed_methods(request)
            if allowed:
                error = ApiError(405, error.code, error.message, {**(error.headers or {}), "Allow": allowed})
        return error.response()

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette logs the traceback itself; the user only gets the generic Chinese message.
        return ApiError(500, "internal_error", INTERNAL_MESSAGE).response()

    app.add_exception_handler(ApiError, on_api_error)  # type: ignore[arg-type]
    app.add_exception_handler(RagError, on_rag_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, on_unexpected)


class InternalErrorMiddleware:
    """The generic 500 answer for an unexpected exception, given inside the other middlewares.

    Starlette runs the handler registered for ``Exception`` outside every middleware, so that
    500 carried no CORS headers and a widget on another origin could only say it could not
    connect. Added innermost, this one answers first (the handler stays as a last resort).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:
                raise
            log.exception("request failed: %s %s", scope.get("method"), scope.get("path"))
            await ApiError(500, "internal_error", INTERNAL_MESSAGE).response()(scope, receive, send)
