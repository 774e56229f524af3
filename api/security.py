"""Access control: API keys, admin token, per-client rate limit and request body size limit."""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections.abc import Iterable

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError
from rag import Settings

# Routes behind API keys and the rate limit; the admin routes have their own token, and
# health, metrics, docs and the widget stay open.
PROTECTED_PREFIXES = ("/api/", "/v1/")
ADMIN_PREFIX = "/api/admin"
# Document uploads are multipart and large: the route streams and bounds them itself (api/uploads.py).
UPLOAD_PATH = "/api/admin/documents"


def bearer_token(headers: Headers) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _matches_any(token: str, secrets: Iterable[str]) -> bool:
    # Compare against every key with a constant-time compare so timing does not leak which one is close.
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(token.encode(), secret.encode())
    return found


class TokenBucket:
    """Per-client token buckets: ``capacity`` requests at once, refilled at ``capacity`` per minute."""

    # Past this many tracked clients, buckets that have refilled completely are forgotten.
    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Take one token; returns 0 when allowed, else the seconds until a token is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                if len(self._buckets) > self.MAX_CLIENTS:
                    self._forget_full(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        for key, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= self.capacity:
                del self._buckets[key]


class AccessMiddleware:
    """Pure ASGI middleware run before routing: 401 for keys, 429 for the rate limit, 413 for big bodies.

    Checking here (not in dependencies) keeps the order fixed: a request without a valid key
    learns nothing about its body, and a too-large body is never parsed.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.keys = list(settings.api_keys)
        self.max_body = settings.max_body_bytes
        self.limiter = TokenBucket(settings.rate_limit_per_minute) if settings.rate_limit_per_minute > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        # Preflights carry no credentials; CORSMiddleware (outside this one) answers them.
        if path.startswith(PROTECTED_PREFIXES) and scope["method"] != "OPTIONS":
            # Admin routes check their own token (require_admin) but share the rate limit.
            error = self._check_access(scope, check_key=not path.startswith(ADMIN_PREFIX))
            if error is not None:
                await error.response()(scope, receive, send)
                return
        if path == UPLOAD_PATH:
            # Multipart (POST) or no body; a method the route lacks gets its 405 from routing.
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("POST", "PUT", "PATCH"):
            # Every body this API takes is JSON; a form or text body is a client mistake to name
            # (curl -d sends form encoding), not a "not a JSON object" puzzle.
            media = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
            if media and media != "application/json" and not media.endswith("+json"):
                unsupported = ApiError(415, "unsupported_media_type", "请求体格式不受支持，请使用 application/json。")
                await unsupported.response()(scope, receive, send)
                return
            body, error = await self._read_body(scope, receive)
            if error is not None:
                await error.response()(scope, receive, send)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _check_access(self, scope: Scope, *, check_key: bool) -> ApiError | None:
        """401 without a valid key, 429 over the rate limit.

        The budget belongs to the client address (and key): visitors of a page whose widget
        carries one shared key do not share one budget. Failed key attempts are charged to the
        address as well, so keys cannot be guessed at full speed.
        """
        headers = Headers(scope=scope)
        client = scope["client"][0] if scope.get("client") else "unknown"
        if check_key and self.keys:
            token = bearer_token(headers)
            challenge = {"WWW-Authenticate": "Bearer"}
            if token is None:
                return self._limit(client) or ApiError(
                    401, "missing_api_key", "缺少 API 密钥：请在请求头中提供 Authorization: Bearer <密钥>。", challenge
                )
            if not _matches_any(token, self.keys):
                return self._limit(client) or ApiError(401, "invalid_api_key", "API 密钥无效。", challenge)
            client = f"{client} key:{token}"
        return self._limit(client)

    def _limit(self, client: str) -> ApiError | None:
        if self.limiter is None:
            return None
        wait = self.limiter.take(client)
        if wait <= 0:
            return None
        seconds = max(1, math.ceil(wait))
        return ApiError(429, "rate_limited", f"请求过于频繁，请 {seconds} 秒后再试。", {"Retry-After": str(seconds)})

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, ApiError | None]:
        too_large = ApiError(413, "body_too_large", f"请求体太大，最多 {self.max_body // 1024} KB。")
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return b"", too_large
        # Bodies are small (the limit is tens of KB), so buffer it and replay it to the app.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the buffered body once, then defers to the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def require_admin(request: Request) -> None:
    """Dependency of the admin routes: 404 when no admin token is configured, 401 when it is wrong."""
    settings: Settings = request.app.state.settings
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        # Off means invisible: the same answer as for any unknown path.
        raise ApiError(404, "not_found", "找不到该地址。")
    token = bearer_token(request.headers)
    if token is None or not _matches_any(token, [settings.admin_token.get_secret_value()]):
        raise ApiError(401, "invalid_admin_token", "管理令牌无效。", {"WWW-Authenticate": "Bearer"})
