"""Access control over a real server (fake-embedder engine): API keys, admin token, rate limit, body size, CORS."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx
import pytest
from serve import running_server

from api.app import create_app
from api.security import TokenBucket
from rag.engine import Engine
from rag.settings import Settings

QUESTION = "产业互联网和消费互联网有什么区别？"  # about the fake engine's inline articles
ORIGIN = "https://widget.example"
MISSING_KEY = {
    "error": {"code": "missing_api_key", "message": "缺少 API 密钥：请在请求头中提供 Authorization: Bearer <密钥>。"}
}
WRONG_KEY = {"error": {"code": "invalid_api_key", "message": "API 密钥无效。"}}
NOT_FOUND = {"error": {"code": "not_found", "message": "找不到该地址。"}}
WRONG_ADMIN = {"error": {"code": "invalid_admin_token", "message": "管理令牌无效。"}}


def settings_with(base: Settings, **changes: object) -> Settings:
    """A validated copy of ``base`` (``model_copy`` would skip validation, e.g. leave secrets as str)."""
    return Settings.model_validate({**base.model_dump(), **changes})


@pytest.fixture(scope="module")
def secured(fake_settings: Settings) -> Settings:
    return settings_with(
        fake_settings,
        api_keys=["key-a", "key-b"],
        admin_token="admin-s3cret",
        cors_origins=[ORIGIN],
        rate_limit_per_minute=0,
        mode="retrieval",
    )


@pytest.fixture(scope="module")
def client(secured: Settings, fake_engine: Engine) -> Iterator[httpx.Client]:
    with running_server(create_app(secured, engine=fake_engine)) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


PROTECTED = [
    ("GET", "/api/articles", {}),
    ("GET", "/api/articles/anything", {}),
    ("GET", "/api/search", {"params": {"q": QUESTION}}),
    ("POST", "/api/ask", {"json": {"question": QUESTION}}),
    ("POST", "/api/chat", {"json": {"messages": [{"role": "user", "content": QUESTION}]}}),
    ("GET", "/v1/models", {}),
    ("POST", "/v1/chat/completions", {"json": {"model": "rag", "messages": [{"role": "user", "content": QUESTION}]}}),
]


# --- API keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "kwargs"), PROTECTED)
def test_public_routes_need_a_valid_key(client: httpx.Client, method: str, path: str, kwargs: dict) -> None:
    missing = client.request(method, path, **kwargs)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json() == MISSING_KEY

    wrong = client.request(method, path, headers={"Authorization": "Bearer key-c"}, **kwargs)
    assert wrong.status_code == 401
    assert wrong.json() == WRONG_KEY

    not_bearer = client.request(method, path, headers={"Authorization": "Basic a2V5LWE="}, **kwargs)
    assert not_bearer.json() == MISSING_KEY


def test_every_configured_key_is_accepted(client: httpx.Client, fake_engine: Engine) -> None:
    for key in ("key-a", "key-b"):
        response = client.get("/api/articles", headers={"Authorization": f"bearer {key}"})
        assert response.status_code == 200
        assert response.json() == {"articles": [meta.to_dict() for meta in fake_engine.articles()]}


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/widget.js"])
def test_operations_docs_and_widget_stay_open(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 200


# --- admin --------------------------------------------------------------------------------


def test_admin_routes_need_the_admin_token_not_an_api_key(client: httpx.Client, fake_engine: Engine) -> None:
    for headers in ({}, {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer admin-wrong"}):
        response = client.get("/api/admin/stats", headers=headers)
        assert response.status_code == 401
        assert response.json() == WRONG_ADMIN
    response = client.get("/api/admin/stats", headers={"Authorization": "Bearer admin-s3cret"})
    assert response.status_code == 200
    # The engine's figures, and which worker process answered.
    assert response.json() == {"stats": {**json_roundtrip(fake_engine.stats()), "pid": os.getpid()}}


def json_roundtrip(value: object) -> object:
    """What ``value`` looks like after JSON encoding (tuples become lists)."""
    return json.loads(json.dumps(value, default=str))


def test_admin_routes_do_not_exist_without_an_admin_token(fake_settings: Settings, fake_engine: Engine) -> None:
    settings = settings_with(fake_settings, admin_token=None, rate_limit_per_minute=0)
    with running_server(create_app(settings, engine=fake_engine)) as url, httpx.Client(base_url=url) as c:
        for method, path in (("POST", "/api/admin/reload"), ("GET", "/api/admin/stats")):
            response = c.request(method, path, headers={"Authorization": "Bearer anything"})
            assert response.status_code == 404
            assert response.json() == NOT_FOUND == c.get("/api/admin/nothing-here").json()


# --- rate limit ---------------------------------------------------------------------------


def test_rate_limit_is_per_client_and_answers_429_with_retry_after(fake_settings: Settings, fake_engine: Engine) -> None:
    settings = settings_with(fake_settings, api_keys=["key-a", "key-b"], rate_limit_per_minute=3)
    with running_server(create_app(settings, engine=fake_engine)) as url, httpx.Client(base_url=url) as c:
        a = {"Authorization": "Bearer key-a"}
        assert [c.get("/api/articles", headers=a).status_code for _ in range(3)] == [200, 200, 200]
        limited = c.get("/api/articles", headers=a)
        assert limited.status_code == 429
        retry_after = int(limited.headers["retry-after"])
        # One token comes back every 20 s at 3 per minute.
        assert 1 <= retry_after <= 20
        assert limited.json() == {
            "error": {"code": "rate_limited", "message": f"请求过于频繁，请 {retry_after} 秒后再试。"}
        }
        # Another key is another client; operations routes are never limited.
        assert c.get("/api/articles", headers={"Authorization": "Bearer key-b"}).status_code == 200
        assert [c.get("/healthz").status_code for _ in range(5)] == [200] * 5
        metrics = c.get("/metrics").text
    assert 'rag_http_requests_total{method="GET",route="/api/articles",status="429"} 1.0' in metrics.splitlines()


def test_rate_limit_counts_failed_keys_and_admin_tokens_and_is_per_address(
    fake_settings: Settings, fake_engine: Engine
) -> None:
    settings = settings_with(fake_settings, api_keys=["key-a"], admin_token="s3cret", rate_limit_per_minute=3)
    bad, good = {"Authorization": "Bearer guess"}, {"Authorization": "Bearer key-a"}

    def from_address(url: str, address: str) -> httpx.Client:  # loopback has every 127.x address
        return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address))

    with running_server(create_app(settings, engine=fake_engine)) as url:
        with from_address(url, "127.0.0.2") as c:
            assert [c.get("/api/articles", headers=bad).status_code for _ in range(4)] == [401, 401, 401, 429]
            # The key holder at the same address keeps its own budget.
            assert [c.get("/api/articles", headers=good).status_code for _ in range(4)] == [200, 200, 200, 429]
        with from_address(url, "127.0.0.3") as c:
            assert [c.post("/api/admin/reload", headers=bad).status_code for _ in range(4)] == [401, 401, 401, 429]
        # Another visitor of a page whose widget carries the same key has a budget of its own.
        with from_address(url, "127.0.0.4") as c:
            assert c.get("/api/articles", headers=good).status_code == 200


def test_token_bucket_refills_at_the_configured_rate() -> None:
    now = [100.0]
    bucket = TokenBucket(2, clock=lambda: now[0])
    assert [bucket.take("a"), bucket.take("a")] == [0.0, 0.0]
    assert bucket.take("a") == 30.0  # 2 per minute: one token every 30 s
    assert bucket.take("b") == 0.0
    now[0] += 15
    assert bucket.take("a") == 15.0
    now[0] += 15
    assert bucket.take("a") == 0.0
    assert bucket.take("a") == 30.0


# --- body size ----------------------------------------------------------------------------


def test_bodies_over_the_limit_get_413_with_or_without_content_length(
    fake_settings: Settings, fake_engine: Engine
) -> None:
    settings = settings_with(fake_settings, max_body_bytes=2048, rate_limit_per_minute=0, api_keys=[])
    too_large = {"error": {"code": "body_too_large", "message": "请求体太大，最多 2 KB。"}}
    big = ('{"question": "' + "问" * 1000 + '"}').encode()  # 3 KB
    with running_server(create_app(settings, engine=fake_engine)) as url, httpx.Client(base_url=url) as c:
        declared = c.post("/api/ask", content=big, headers={"content-type": "application/json"})
        assert declared.status_code == 413
        assert declared.json() == too_large

        def chunks() -> Iterator[bytes]:
            for i in range(0, len(big), 512):
                yield big[i : i + 512]

        chunked = c.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        assert chunked.json() == too_large

        fits = c.post("/api/ask", json={"question": QUESTION + "问" * 500})
        assert fits.status_code == 200


# --- CORS ---------------------------------------------------------------------------------


def test_cors_preflight_from_an_allowed_origin(client: httpx.Client) -> None:
    response = client.options(
        "/api/chat",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
    allowed_headers = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers


def test_an_unexpected_error_is_a_500_with_cors_headers(fake_settings: Settings) -> None:
    from serve import Broken

    settings = settings_with(fake_settings, cors_origins=[ORIGIN], rate_limit_per_minute=0)
    with running_server(create_app(settings, engine=Broken())) as url:
        response = httpx.post(url + "/api/ask", json={"question": "产业互联网是什么？"}, headers={"Origin": ORIGIN})
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "服务器内部错误，请稍后再试。"}}
    # The widget on another origin can read it and show the message, not "cannot connect".
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_cors_preflight_from_another_origin_is_refused(client: httpx.Client) -> None:
    response = client.options(
        "/api/chat",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_cors_headers_on_answers_and_on_errors_for_allowed_origins_only(client: httpx.Client) -> None:
    ok = client.get("/api/articles", headers={"Origin": ORIGIN, "Authorization": "Bearer key-a"})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    # The widget must be able to read a 401 or 429 to show the Chinese message.
    denied = client.get("/api/articles", headers={"Origin": ORIGIN})
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == ORIGIN
    assert denied.headers["access-control-expose-headers"] == "Retry-After"
    other = client.get("/api/articles", headers={"Origin": "https://evil.example", "Authorization": "Bearer key-a"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
