"""A 200 from the LLM endpoint whose body is not a chat completion degrades like an outage, on every route
(over the fake-embedder engine: the LLM plumbing needs *an* index, not the real model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import make_settings
from llm_server import GARBLED, FakeLLM, garbled, reply
from serve import running_server

from api.app import create_app
from rag.engine import Engine
from rag.types import Delta, Done, Message, Retrieved

# Questions about the inline articles of tests/fakes.py.
QUESTION = "物流企业推进数字化的最大困难是什么？"
FOLLOW_UP = "那它怎么解决数据标准的问题？"
HISTORY = [Message("user", "物流数字化的最大困难是什么？"), Message("assistant", "最大困难是数据标准不统一[1]。")]
# Plain requests get JSON-ish garbage, streams get event-stream garbage as well.
PLAIN = [k for k in GARBLED if not k.startswith("sse_")]


@pytest.fixture
def llm_engine(fake: FakeLLM, fake_index_dir: Path, fake_engine: Engine) -> Iterator[Engine]:
    settings = make_settings(fake_index_dir, llm_model="m", openai_base_url=fake.base_url, openai_api_key="k",
                             llm_timeout=2.0)
    e = Engine.open(settings, embedder=fake_engine.embedder)
    yield e
    e.llm.close()


@pytest.mark.parametrize("kind", PLAIN)
def test_garbled_completion_degrades_to_the_retrieval_answer(kind: str, fake: FakeLLM, llm_engine: Engine,
                                                             fake_engine: Engine):
    fake.script(garbled(kind))
    answer = llm_engine.ask(QUESTION, mode="llm")
    offline = fake_engine.ask(QUESTION, mode="retrieval")
    assert (answer.mode, answer.degraded) == ("retrieval", "bad_reply")
    assert (answer.answer, answer.citations) == (offline.answer, offline.citations)


@pytest.mark.parametrize("kind", list(GARBLED))
def test_garbled_stream_degrades_with_the_retrieval_answer(kind: str, fake: FakeLLM, llm_engine: Engine,
                                                           fake_engine: Engine):
    fake.script(garbled(kind))
    events = list(llm_engine.stream(QUESTION, mode="llm"))
    offline = fake_engine.ask(QUESTION, mode="retrieval")
    assert [type(e) for e in events] == [Retrieved, Delta, Done]
    done = events[-1].answer
    assert (done.mode, done.answer, done.citations) == ("retrieval", offline.answer, offline.citations)
    assert done.degraded in ("bad_reply", "stream_broken")
    assert events[1] == Delta(offline.answer, restart=False)


@pytest.mark.parametrize("kind", PLAIN)
def test_garbled_rewrite_falls_back_to_the_rule_rewrite(kind: str, fake: FakeLLM, llm_engine: Engine):
    fake.script(garbled(kind), reply("元宇宙是Web3的重要场景。"))
    events = list(llm_engine.stream(FOLLOW_UP, HISTORY, mode="llm"))
    done = events[-1].answer
    assert done.query == "那物流怎么解决数据标准的问题？"  # the rule rewrite
    assert (done.mode, done.degraded, done.answer) == ("llm", None, "元宇宙是Web3的重要场景。")


@pytest.fixture
def api_url(fake: FakeLLM, fake_index_dir: Path, fake_engine: Engine) -> Iterator[str]:
    settings = make_settings(fake_index_dir, llm_model="m", openai_base_url=fake.base_url, openai_api_key="k",
                             llm_timeout=2.0, mode="llm")
    e = Engine.open(settings, embedder=fake_engine.embedder)
    with running_server(create_app(settings, engine=e)) as url:
        yield url
    e.llm.close()


ROUTES = {
    "/api/ask": {"question": QUESTION},
    "/api/chat": {"messages": [{"role": "user", "content": QUESTION}]},
    "/v1/chat/completions": {"model": "rag", "messages": [{"role": "user", "content": QUESTION}]},
}


@pytest.mark.parametrize("kind", ["html", "json_list", "truncated_json", "non_string_content"])
def test_every_route_answers_a_garbled_llm_reply_with_the_retrieval_answer(kind: str, fake: FakeLLM, api_url: str,
                                                                           fake_engine: Engine):
    offline = fake_engine.ask(QUESTION, mode="retrieval")
    for path, body in ROUTES.items():
        fake.script(garbled(kind))
        response = httpx.post(api_url + path, json=body, timeout=30)
        assert response.status_code == 200, (path, response.text)
        data = response.json()
        if path == "/v1/chat/completions":
            assert data["choices"][0]["message"]["content"].startswith(offline.answer)
            assert data["rag"]["degraded"] == "bad_reply"
        else:
            assert (data["answer"], data["mode"], data["degraded"]) == (offline.answer, "retrieval", "bad_reply")
    # The streamed chat with history: the garbled rewrite falls back, the garbled answer degrades.
    fake.script(garbled(kind), garbled(kind))
    messages = [{"role": m.role, "content": m.content} for m in HISTORY] + [{"role": "user", "content": FOLLOW_UP}]
    with httpx.stream("POST", api_url + "/api/chat", json={"messages": messages, "stream": True}, timeout=30) as r:
        assert r.status_code == 200
        text = r.read().decode()
    assert "event: error" not in text and "event: done" in text
    assert '"degraded":"stream_broken"' in text.replace(" ", "") or '"degraded":"bad_reply"' in text.replace(" ", "")
