"""The HTTP API over the fake-embedder engine and a real uvicorn server: answers, SSE, search, articles,
errors, reload (the API passes on what *an* engine answers; the start-up load uses the real model)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from samples import COLD_CHAIN
from serve import BreaksMidway, running_server

from api.app import create_app
from rag.engine import Engine
from rag.settings import Settings
from rag.types import Delta, Done, Message, Retrieved

# Questions about the inline articles of tests/fakes.py (the fake engine's corpus).
QUESTION = "产业互联网和消费互联网有什么区别？"
FOLLOW_UP = "它的价值来自哪里？"


def settings_with(base: Settings, **changes: object) -> Settings:
    """A validated copy of ``base`` (``model_copy`` would skip validation, e.g. leave secrets as str)."""
    return Settings.model_validate({**base.model_dump(), **changes})


def without_timing(answer: dict) -> dict:
    """An answer dict without ``took_ms``, the one field that differs between two identical answers,
    and the API's ``feedback_id`` (the question log's row, tested in test_feedback.py)."""
    return {key: value for key, value in answer.items() if key not in ("took_ms", "feedback_id")}


def parse_sse(response: httpx.Response) -> list[tuple[str, dict]]:
    """Read a whole ``text/event-stream`` body as ``(event, json data)`` pairs, comments skipped."""
    events: list[tuple[str, dict]] = []
    name, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                events.append((name, json.loads("\n".join(data))))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].removeprefix(" "))
    assert not data, "stream ended in the middle of an event"
    return events


@pytest.fixture(scope="module")
def api_settings(fake_settings: Settings) -> Settings:
    """Open access, no rate limit: this module tests behaviour, test_api_security tests access."""
    return settings_with(fake_settings, rate_limit_per_minute=0, api_keys=[], mode="retrieval")


@pytest.fixture(scope="module")
def base_url(api_settings: Settings, fake_engine: Engine) -> Iterator[str]:
    with running_server(create_app(api_settings, engine=fake_engine)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        yield c


# --- operations ---------------------------------------------------------------------------


def test_healthz_and_readyz(client: httpx.Client, fake_engine: Engine) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "version": fake_engine.version}
    # Probes that use HEAD get the status without a body.
    for path in ("/healthz", "/readyz", "/", "/widget.js"):
        head = client.head(path)
        assert (head.status_code, head.content) == (200, b""), path


def test_the_widget_script_keeps_to_the_server_limits(api_settings: Settings, fake_engine: Engine) -> None:
    settings = settings_with(api_settings, max_question_chars=123, max_history_messages=7)
    with running_server(create_app(settings, engine=fake_engine)) as url:
        script = httpx.get(url + "/widget.js").text
    limits = re.findall(r"/\*server-limits\*/(.*?)/\*end-server-limits\*/", script)
    assert [json.loads(found) for found in limits] == [{"max_question_chars": 123, "max_history_messages": 7}]
    assert "var MAX_QUESTION_CHARS = LIMITS.max_question_chars;" in script


def test_starts_unready_without_index_then_reload_makes_it_ready(
    api_settings: Settings, tmp_path, indexed_settings: Settings
) -> None:
    # The server does not follow CURRENT by itself here: this is about what the reload answers.
    settings = settings_with(api_settings, index_dir=tmp_path / "index", admin_token="s3cret",
                             index_check_seconds=0)
    admin = {"Authorization": "Bearer s3cret"}
    with running_server(create_app(settings), wait_ready=False) as url, httpx.Client(base_url=url) as c:
        # The lifespan loads in the background: liveness answers at once, readiness explains.
        assert c.get("/healthz").json() == {"status": "ok"}
        for _ in range(200):  # bounded wait for the failed load to be recorded
            ready = c.get("/readyz")
            if ready.json()["error"]["code"] != "not_ready":
                break
            time.sleep(0.05)
        assert ready.status_code == 503
        assert ready.json() == {
            "error": {"code": "index_not_found", "message": "索引不存在，请先运行 rag ingest 建立索引。"}
        }
        # Requests get the same reason, not "still loading, retry in 1 s" (it would never load).
        ask = c.post("/api/ask", json={"question": QUESTION})
        assert ask.status_code == 503 and "retry-after" not in ask.headers
        assert ask.json() == ready.json()
        assert c.get("/metrics").text.count("rag_ready 0.0") == 1

        shutil.copytree(indexed_settings.index_dir, settings.index_dir)
        # The first load also loads the model (seconds on a busy machine).
        reloaded = c.post("/api/admin/reload", headers=admin, timeout=120)
        assert reloaded.status_code == 200
        version = reloaded.json()["version"]
        assert reloaded.json() == {"version": version, "previous": None}
        assert c.get("/readyz").json() == {"status": "ready", "version": version}
        assert c.post("/api/ask", json={"question": QUESTION}).status_code == 200
        assert c.get("/metrics").text.count("rag_ready 1.0") == 1


def test_metrics_count_requests_per_route_and_answers_by_mode(api_settings: Settings, fake_engine: Engine) -> None:
    with running_server(create_app(api_settings, engine=fake_engine)) as url, httpx.Client(base_url=url) as c:
        for _ in range(3):
            assert c.post("/api/ask", json={"question": QUESTION, "mode": "retrieval"}).status_code == 200
        assert c.post("/api/ask", json={"question": " "}).status_code == 400
        assert c.get("/api/articles/no-such-article").status_code == 404
        assert c.get("/no/such/path").status_code == 404
        assert c.get("/api/search", params={"q": QUESTION}).status_code == 200
        response = c.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = set(response.text.splitlines())
    expected = {
        'rag_http_requests_total{method="POST",route="/api/ask",status="200"} 3.0',
        'rag_http_requests_total{method="POST",route="/api/ask",status="400"} 1.0',
        'rag_http_requests_total{method="GET",route="/api/articles/{article_id}",status="404"} 1.0',
        'rag_http_requests_total{method="GET",route="unmatched",status="404"} 1.0',
        'rag_http_requests_total{method="GET",route="/api/search",status="200"} 1.0',
        'rag_answers_total{mode="retrieval"} 3.0',
        'rag_http_request_duration_seconds_count{route="/api/ask"} 4.0',
        "rag_retrieval_duration_seconds_count 4.0",
        "rag_llm_duration_seconds_count 0.0",
        "rag_ready 1.0",
    }
    assert expected <= lines, expected - lines


def test_docs_show_an_example_on_every_field(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    # Everything the page loads comes from this server: the docs work offline (no CDN).
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs.text)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    assert all(client.get(a).status_code == 200 for a in assets), assets
    schema = client.get("/openapi.json").json()
    missing = [
        f"{name}.{field}"
        for name, model in schema["components"]["schemas"].items()
        if not name.startswith(("HTTPValidationError", "ValidationError"))
        for field, spec in model.get("properties", {}).items()
        if "examples" not in spec
    ]
    assert missing == []
    # No RAG_API_KEYS here: the public routes are open, and the schema says so (test_api_contract.py
    # checks the keyed configuration).
    assert "security" not in schema["paths"]["/api/ask"]["post"]
    assert schema["paths"]["/api/admin/reload"]["post"]["security"] == [{"adminToken": []}]


# --- answers ------------------------------------------------------------------------------


def test_ask_returns_the_engine_answer(client: httpx.Client, fake_engine: Engine) -> None:
    response = client.post("/api/ask", json={"question": QUESTION, "mode": "retrieval", "top_k": 3})
    assert response.status_code == 200
    body = response.json()
    expected = fake_engine.ask(QUESTION, mode="retrieval", top_k=3).to_dict()
    assert without_timing(body) == without_timing(expected)
    assert body["mode"] == "retrieval"
    assert body["citations"], "a corpus question should be answered with citations"
    assert isinstance(body["took_ms"], float)


def test_chat_without_stream_answers_the_last_message_with_history(client: httpx.Client, fake_engine: Engine) -> None:
    first = fake_engine.ask(QUESTION, mode="retrieval")
    messages = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": first.answer},
        {"role": "user", "content": FOLLOW_UP},
    ]
    response = client.post("/api/chat", json={"messages": messages, "mode": "retrieval"})
    assert response.status_code == 200
    history = [Message("user", QUESTION), Message("assistant", first.answer)]
    expected = fake_engine.ask(FOLLOW_UP, history=history, mode="retrieval").to_dict()
    assert without_timing(response.json()) == without_timing(expected)


@pytest.mark.parametrize("path", ["/api/chat", "/v1/chat/completions"])
def test_a_long_conversation_uses_its_latest_messages(client: httpx.Client, fake_engine: Engine, path: str) -> None:
    first = fake_engine.ask(QUESTION, mode="retrieval")
    old_turns = [{"role": "user", "content": "红烧肉怎么做？"}, {"role": "assistant", "content": "……"}] * 15
    recent = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": first.answer}]
    response = client.post(path, json={"messages": [*old_turns, *recent, {"role": "user", "content": FOLLOW_UP}]})
    assert response.status_code == 200, response.text
    expected = fake_engine.ask(FOLLOW_UP, history=[Message("user", QUESTION), Message("assistant", first.answer)])
    body = response.json()
    answer = body["answer"] if path == "/api/chat" else body["choices"][0]["message"]["content"]
    assert answer.startswith(expected.answer)


def test_chat_stream_sends_citations_deltas_then_done(client: httpx.Client, fake_engine: Engine) -> None:
    expected = list(fake_engine.stream(QUESTION, mode="retrieval"))
    payload = {"messages": [{"role": "user", "content": QUESTION}], "stream": True, "mode": "retrieval"}
    with client.stream("POST", "/api/chat", json=payload) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        events = parse_sse(response)

    retrieved = expected[0]
    done = expected[-1]
    assert isinstance(retrieved, Retrieved) and isinstance(done, Done)
    names = [name for name, _ in events]
    assert names == ["citations"] + ["delta"] * (len(expected) - 2) + ["done"]
    assert events[0][1] == {"citations": [c.to_dict() for c in retrieved.citations]}
    assert [data for _, data in events[1:-1]] == [{"text": e.text} for e in expected[1:-1] if isinstance(e, Delta)]
    assert without_timing(events[-1][1]) == without_timing(done.answer.to_dict())
    assert "".join(data["text"] for _, data in events[1:-1]) == done.answer.answer
    # The streamed text's [n] resolve against the first event exactly as against the final one.
    assert events[0][1]["citations"] == done.answer.to_dict()["citations"]


def test_chat_stream_failure_midway_ends_with_an_error_event(api_settings: Settings, fake_engine: Engine) -> None:
    app = create_app(api_settings, engine=BreaksMidway(fake_engine))  # type: ignore[arg-type]
    payload = {"messages": [{"role": "user", "content": QUESTION}], "stream": True, "mode": "retrieval"}
    with running_server(app) as url, httpx.stream("POST", url + "/api/chat", json=payload, timeout=30) as response:
        assert response.status_code == 200
        events = parse_sse(response)
    assert [name for name, _ in events] == ["citations", "delta", "error"]
    assert events[-1][1] == {"error": {"code": "stream_failed", "message": "生成回答时出错，请重试。"}}


# --- search and articles ------------------------------------------------------------------


def test_search_returns_hits_in_the_cli_shape(client: httpx.Client, fake_engine: Engine) -> None:
    response = client.get("/api/search", params={"q": "元宇宙 产业互联网", "k": 3})
    assert response.status_code == 200
    assert response.json() == {"hits": [hit.to_dict() for hit in fake_engine.search("元宇宙 产业互联网", k=3)]}
    assert len(response.json()["hits"]) == 3


def test_articles_list_and_detail_let_a_citation_be_highlighted(client: httpx.Client, fake_engine: Engine) -> None:
    listing = client.get("/api/articles")
    assert listing.status_code == 200
    assert listing.json() == {"articles": [meta.to_dict() for meta in fake_engine.articles()]}

    citation = client.post("/api/ask", json={"question": QUESTION, "mode": "retrieval"}).json()["citations"][0]
    response = client.get(f"/api/articles/{citation['article_id']}")
    assert response.status_code == 200
    body = response.json()
    view = fake_engine.article(citation["article_id"])
    assert body == {
        "article": view.meta.to_dict(),
        "text": view.text,
        "chunks": [{"chunk_id": c.chunk_id, "start": c.start, "end": c.end, "heading": c.heading} for c in view.chunks],
    }
    assert {"chunk_id": citation["chunk_id"], "start": citation["start"], "end": citation["end"]}.items() <= next(
        chunk for chunk in body["chunks"] if chunk["chunk_id"] == citation["chunk_id"]
    ).items()


# --- client mistakes: always a 4xx with a Chinese message -------------------------------------

ERRORS = [
    ("post", "/api/ask", {"json": {"question": "   "}}, 400, "empty_question", "问题不能为空。"),
    (
        "post",
        "/api/ask",
        {"json": {"question": "问" * 2001}},
        400,
        "question_too_long",
        "问题太长了，请控制在 2000 个字以内。",
    ),
    (
        "post",
        "/api/ask",
        {"content": b'{"question": ', "headers": {"content-type": "application/json"}},
        400,
        "bad_json",
        "请求体不是合法的 JSON。",
    ),
    ("post", "/api/ask", {"json": {"question": 42}}, 422, "invalid_request", "字段 question 应为字符串。"),
    (
        "post",
        "/api/ask",
        {"content": '{"question": "产业"}'.encode("gbk"), "headers": {"content-type": "application/json"}},
        400,
        "bad_request",
        "请求无法解析，请发送 UTF-8 编码的 JSON。",
    ),
    (
        "post",
        "/api/ask",
        {"content": b'{"question": "\\ud800"}', "headers": {"content-type": "application/json"}},
        422,
        "invalid_request",
        "字段 question 含有无效的 Unicode 字符。",
    ),
    (
        "post",
        "/api/ask",
        {"json": {"question": QUESTION, "top_k": "many"}},
        422,
        "invalid_request",
        "字段 top_k 应为整数。",
    ),
    (
        "post",
        "/api/ask",
        {"json": {"question": QUESTION, "top_k": 0}},
        422,
        "invalid_request",
        "字段 top_k 不能小于 1。",
    ),
    (
        "post",
        "/api/ask",
        {"json": {"question": QUESTION, "mode": "fast"}},
        422,
        "invalid_request",
        "字段 mode 的取值无效，可选值：'auto'、'llm'、'retrieval'。",
    ),
    (
        "post",
        "/v1/chat/completions",
        {"json": {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}},
        422,
        "invalid_request",
        "字段 messages[0].content[0].text 应为字符串。",
    ),
    (
        "post",
        "/v1/chat/completions",
        {"json": {"messages": [{"role": "user", "content": 123}]}},
        422,
        "invalid_request",
        "字段 messages[0].content 应为字符串。",
    ),
    ("post", "/api/ask", {"json": {}}, 422, "invalid_request", "缺少字段：question。"),
    ("post", "/api/ask", {"json": [QUESTION]}, 422, "invalid_request", "请求体应为 JSON 对象。"),
    ("post", "/api/ask", {"content": json.dumps({"question": QUESTION})}, 422, "invalid_request",
     "请求体应为 JSON 对象，并带上请求头 Content-Type: application/json。"),
    (
        "post",
        "/api/ask",
        {"content": QUESTION.encode(), "headers": {"content-type": "text/plain"}},
        415,
        "unsupported_media_type",
        "请求体格式不受支持，请使用 application/json。",
    ),
    (
        "post",
        "/api/ask",
        {"data": {"question": QUESTION}},  # what curl -d sends: form encoding
        415,
        "unsupported_media_type",
        "请求体格式不受支持，请使用 application/json。",
    ),
    ("get", "/api/ask", {}, 405, "method_not_allowed", "不支持该请求方法。"),
    ("post", "/api/chat", {"json": {"messages": []}}, 422, "invalid_request", "字段 messages 至少需要 1 项。"),
    ("post", "/api/chat", {"json": {"messages": "hi"}}, 422, "invalid_request", "字段 messages 应为数组。"),
    (
        "post",
        "/api/chat",
        {"json": {"messages": [{"role": "robot", "content": "hi"}]}},
        422,
        "invalid_request",
        "字段 messages[0].role 的取值无效，可选值：'user'、'assistant'、'system'。",
    ),
    (
        "post",
        "/api/chat",
        {"json": {"messages": [{"role": "user"}]}},
        422,
        "invalid_request",
        "缺少字段：messages[0].content。",
    ),
    (
        "post",
        "/api/chat",
        {"json": {"messages": [{"role": "user", "content": "hi"}], "stream": "maybe"}},
        422,
        "invalid_request",
        "字段 stream 应为布尔值（true 或 false）。",
    ),
    (
        "post",
        "/api/chat",
        {"json": {"messages": [{"role": "assistant", "content": "你好"}]}},
        400,
        "last_message_not_user",
        "最后一条消息必须是用户的提问。",
    ),
    (
        "post",
        "/api/chat",
        {"json": {"messages": [{"role": "user", "content": ""}], "stream": True}},
        400,
        "empty_question",
        "问题不能为空。",
    ),
    ("get", "/api/search", {}, 422, "invalid_request", "缺少字段：q。"),
    ("get", "/api/search", {"params": {"q": " "}}, 400, "empty_question", "问题不能为空。"),
    ("get", "/api/search", {"params": {"q": QUESTION, "k": "x"}}, 422, "invalid_request", "字段 k 应为整数。"),
    ("get", "/api/articles/no-such-article", {}, 404, "article_not_found", "找不到这篇文章。"),
    ("get", "/no/such/path", {}, 404, "not_found", "找不到该地址。"),
    ("post", "/api/admin/reload", {}, 404, "not_found", "找不到该地址。"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code", "message"), ERRORS)
def test_client_mistakes_get_a_4xx_with_a_chinese_message(
    client: httpx.Client, method: str, path: str, kwargs: dict, status: int, code: str, message: str
) -> None:
    response = client.request(method.upper(), path, **kwargs)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": {"code": code, "message": message}}


# --- reload under load --------------------------------------------------------------------


def _expected_answers(engine: Engine) -> dict[str, dict]:
    """What /api/ask and the streamed /api/chat must answer for QUESTION on this engine."""
    return {
        "ask": without_timing(engine.ask(QUESTION, mode="retrieval").to_dict()),
        "chat": without_timing(list(engine.stream(QUESTION, mode="retrieval"))[-1].answer.to_dict()),
    }


def test_reload_swaps_in_a_new_index_version_while_requests_are_in_flight(
    api_settings: Settings, fake_engine: Engine, fake_settings: Settings, tmp_path
) -> None:
    from ingest.pipeline import run_ingest

    index_dir = tmp_path / "index"
    shutil.copytree(fake_settings.index_dir, index_dir)
    # An LLM is configured (never called: the requests ask for retrieval) so that the reload's
    # reuse of its client can be seen.
    # index_check_seconds=0: only the admin calls switch versions, so what they answer is known.
    settings = settings_with(api_settings, index_dir=index_dir, admin_token="s3cret", llm_model="m",
                             openai_base_url="http://127.0.0.1:9/v1", openai_api_key="k", index_check_seconds=0)
    first = Engine.open(settings, embedder=fake_engine.embedder)
    assert first.llm is not None
    app = create_app(settings, engine=first)
    results: list[tuple[str, int, dict]] = []
    lock = threading.Lock()
    start = threading.Barrier(5)
    reloaded = threading.Event()

    def worker(url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            start.wait(timeout=30)
            # At least 10 requests each, and keep going until both reloads are through (bounded).
            i = 0
            while i < 10 or (not reloaded.is_set() and i < 1000):
                i += 1
                if i % 2:
                    response = c.post("/api/ask", json={"question": QUESTION, "mode": "retrieval"})
                    outcome = ("ask", response.status_code, without_timing(response.json()))
                else:
                    payload = {"messages": [{"role": "user", "content": QUESTION}], "stream": True, "mode": "retrieval"}
                    with c.stream("POST", "/api/chat", json=payload) as response:
                        events = parse_sse(response)
                    outcome = ("chat", response.status_code, without_timing(events[-1][1]))
                with lock:
                    results.append(outcome)

    with running_server(app) as url:
        threads = [threading.Thread(target=worker, args=(url,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        start.wait(timeout=30)
        with httpx.Client(base_url=url, timeout=60, headers={"Authorization": "Bearer s3cret"}) as admin:
            same = admin.post("/api/admin/reload")
            second = app.state.engine
            # A new version appears on disk (one more article) while the server keeps answering.
            extra = tmp_path / "extra"
            extra.mkdir()
            (extra / "cold-chain.md").write_text(COLD_CHAIN, encoding="utf-8")
            run_ingest([fake_settings.corpus_dir, extra], settings, progress=False, embedder=fake_engine.embedder)
            newer = admin.post("/api/admin/reload")
            articles = admin.get("/api/articles").json()["articles"]
        reloaded.set()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)

    latest = app.state.engine
    assert same.status_code == 200
    assert same.json() == {"version": first.version, "previous": first.version}
    assert second is not first
    # The new engines share the loaded model and the LLM client: a reload loads no model.
    assert latest.embedder is first.embedder and latest.llm is first.llm
    assert newer.status_code == 200
    assert latest.version != first.version
    assert newer.json() == {"version": latest.version, "previous": first.version}
    assert [a["title"] for a in articles] == [m.title for m in latest.articles()]
    assert "产业互联网里的冷链物流" in [a["title"] for a in articles]
    assert len(results) >= 40
    # Every request succeeded with the answer of the old index or of the new one.
    allowed = {kind: [answer, _expected_answers(latest)[kind]] for kind, answer in _expected_answers(first).items()}
    assert [outcome for outcome in results if outcome[1] != 200 or outcome[2] not in allowed[outcome[0]]] == []
