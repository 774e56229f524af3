"""The official ``openai`` client against our ``/v1``: cited answers, streamed and not, errors, LLM mode."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import openai
import pytest
from llm_server import FakeLLM, cut_stream, status, stream
from serve import BreaksMidway, running_server

from api.app import create_app
from api.metrics import Metrics
from api.routes.openai_compat import RESTART_NOTE, completion_chunks
from rag.engine import Engine
from rag.settings import Settings
from rag.types import Answer, Citation, Delta, Done, Message, Retrieved

# Questions about the inline articles of tests/fakes.py (the fake engine's corpus).
QUESTION = "产业互联网和消费互联网有什么区别？"
FOLLOW_UP = "它的价值来自哪里？"
KEY = "sk-test-key"


def settings_with(base: Settings, **changes: object) -> Settings:
    """A validated copy of ``base`` (``model_copy`` would skip validation, e.g. leave secrets as str)."""
    return Settings.model_validate({**base.model_dump(), **changes})


def with_sources(text: str, citations: tuple[Citation, ...]) -> str:
    """What a text-only client must show: the answer, then ``来源：`` and one line per citation."""
    if not citations:
        return text
    lines = []
    for c in citations:
        details = "，".join(part for part in (c.author, c.date) if part)
        line = f"[{c.n}] {c.title} — {details}" if details else f"[{c.n}] {c.title}"
        if sum(o.article_id == c.article_id for o in citations) > 1:  # tell passages of one article apart
            head = " ".join(c.passage.split())
            line += f"：“{head[:24]}…”" if len(head) > 24 else f"：“{head}”"
        lines.append(line)
    return text + "\n\n来源：\n" + "\n".join(lines)


@pytest.fixture(scope="module")
def base_url(fake_settings: Settings, fake_engine: Engine) -> Iterator[str]:
    settings = settings_with(fake_settings, api_keys=[KEY], rate_limit_per_minute=0, mode="retrieval")
    with running_server(create_app(settings, engine=fake_engine)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=base_url + "/v1", api_key=KEY, max_retries=0, timeout=30) as c:
        yield c


def test_models_lists_the_corpus_model(client: openai.OpenAI, base_url: str) -> None:
    models = client.models.list()
    assert [(m.id, m.object, m.owned_by) for m in models.data] == [("rag", "model", "rag")]
    raw = httpx.get(base_url + "/v1/models", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert raw == {
        "object": "list",
        "data": [{"id": "rag", "object": "model", "created": raw["data"][0]["created"], "owned_by": "rag"}],
    }
    card = client.models.retrieve("rag")
    assert {"id": card.id, "object": card.object, "created": card.created, "owned_by": card.owned_by} == raw["data"][0]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_stream_null_means_a_plain_completion(base_url: str) -> None:
    body = {"model": "rag", "messages": [{"role": "user", "content": QUESTION}], "stream": None}
    response = httpx.post(base_url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"},
                          timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "chat.completion"


def test_completion_carries_citations_in_text_and_in_a_field(client: openai.OpenAI, fake_engine: Engine) -> None:
    expected = fake_engine.ask(QUESTION, mode="retrieval")
    assert expected.citations, "a corpus question should be answered with citations"
    completion = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    assert completion.object == "chat.completion"
    assert completion.model == "rag"
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{32}", completion.id)
    [choice] = completion.choices
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == with_sources(expected.answer, expected.citations)
    first = expected.citations[0]
    assert f"\n\n来源：\n[1] {first.title}" in choice.message.content
    assert completion.model_extra["citations"] == [c.to_dict() for c in expected.citations]
    assert completion.model_extra["rag"] == {
        "mode": "retrieval",
        "grounded": expected.grounded,
        "degraded": None,
        "refused": False,
    }


def test_streamed_completion_adds_up_to_the_same_text(client: openai.OpenAI, fake_engine: Engine) -> None:
    expected = fake_engine.ask(QUESTION, mode="retrieval")
    chunks = list(
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}], stream=True)
    )
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == with_sources(expected.answer, expected.citations)
    assert [chunk.choices[0].finish_reason for chunk in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert chunks[-1].model_extra["citations"] == [c.to_dict() for c in expected.citations]


def test_history_and_content_parts_are_understood(client: openai.OpenAI, fake_engine: Engine) -> None:
    first = fake_engine.ask(QUESTION, mode="retrieval")
    messages = [
        {"role": "system", "content": "请用中文回答。"},
        {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
        {"role": "assistant", "content": first.answer},
        {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]},
    ]
    history = [Message("system", "请用中文回答。"), Message("user", QUESTION), Message("assistant", first.answer)]
    expected = fake_engine.ask(FOLLOW_UP, history=history, mode="retrieval")
    # The follow-up names no subject: the history gives it one, and it is answered.
    assert (expected.query, bool(expected.citations)) == ("产业互联网的价值来自哪里？", True)
    completion = client.chat.completions.create(model="rag", messages=messages)
    assert completion.choices[0].message.content == with_sources(expected.answer, expected.citations)


def test_client_mistakes_raise_the_matching_openai_errors(client: openai.OpenAI, base_url: str) -> None:
    with pytest.raises(openai.BadRequestError) as empty:
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "  "}])
    assert empty.value.status_code == 400
    assert empty.value.body == {"code": "empty_question", "message": "问题不能为空。"}

    with pytest.raises(openai.BadRequestError) as last:
        client.chat.completions.create(model="rag", messages=[{"role": "assistant", "content": "你好"}], stream=True)
    assert last.value.body == {"code": "last_message_not_user", "message": "最后一条消息必须是用户的提问。"}

    with pytest.raises(openai.UnprocessableEntityError) as wrong_type:
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": 5}])  # type: ignore[typeddict-item]
    assert wrong_type.value.body["code"] == "invalid_request"

    with openai.OpenAI(base_url=base_url + "/v1", api_key="sk-wrong", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError) as denied:
            stranger.models.list()
    assert denied.value.body == {"code": "invalid_api_key", "message": "API 密钥无效。"}


def test_failure_midway_reaches_the_openai_client_as_an_api_error(fake_settings: Settings, fake_engine: Engine) -> None:
    settings = settings_with(fake_settings, rate_limit_per_minute=0, mode="retrieval")
    app = create_app(settings, engine=BreaksMidway(fake_engine))  # type: ignore[arg-type]
    with running_server(app) as url, openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0) as c:
        received: list[str] = []
        with pytest.raises(openai.APIError) as failure:
            for chunk in c.chat.completions.create(
                model="rag", messages=[{"role": "user", "content": QUESTION}], stream=True
            ):
                received.append(chunk.choices[0].delta.content or "")
    assert failure.value.message == "生成回答时出错，请重试。"
    assert failure.value.body == {"code": "stream_failed", "message": "生成回答时出错，请重试。"}
    # The role chunk and the one delta arrived before the error.
    assert len(received) == 2 and received[0] == ""


# --- with an LLM behind the engine ----------------------------------------------------------


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def llm_app(fake_settings: Settings, fake_engine: Engine, llm: FakeLLM):
    settings = settings_with(
        fake_settings,
        openai_base_url=llm.base_url,
        llm_model="fake",
        openai_api_key="sk-fake",
        rate_limit_per_minute=0,
        mode="auto",
        llm_timeout=5,
    )
    # Share the session engine's embedder: only the LLM configuration differs.
    llm_engine = Engine.open(settings, embedder=fake_engine.embedder)
    app = create_app(settings, engine=llm_engine)
    with running_server(app) as url:
        yield app, llm_engine, url


def _supported_reply(engine: Engine) -> list[str]:
    """An LLM reply in two pieces whose one sentence is copied from passage [1], so it verifies."""
    passage = engine.search(QUESTION)[0].chunk.text
    sentence = re.split(r"(?<=[。！？])", passage)[0].rstrip("。！？")
    return [sentence[: len(sentence) // 2], sentence[len(sentence) // 2 :] + "[1]。"]


def test_llm_answer_streams_through_the_openai_endpoint(llm_app, llm: FakeLLM) -> None:
    _, llm_engine, url = llm_app
    pieces = _supported_reply(llm_engine)
    llm.script(stream(pieces), stream(pieces))
    events = list(llm_engine.stream(QUESTION))
    done = events[-1]
    assert isinstance(done, Done) and done.answer.mode == "llm" and done.answer.citations
    assert [e.text for e in events if isinstance(e, Delta)] == pieces

    with openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0) as c:
        chunks = list(
            c.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}], stream=True)
        )
    contents = [chunk.choices[0].delta.content for chunk in chunks]
    assert contents[1:3] == pieces
    assert "".join(part or "" for part in contents) == with_sources(done.answer.answer, done.answer.citations)
    assert chunks[-1].model_extra["rag"] == {"mode": "llm", "grounded": True, "degraded": None, "refused": False}
    assert llm.pending == 0


def _streamed_content(url: str, question: str) -> tuple[str, list]:
    with openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0) as c:
        chunks = list(
            c.chat.completions.create(model="rag", messages=[{"role": "user", "content": question}], stream=True)
        )
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks), chunks


def test_streamed_answer_whose_markers_verification_renumbers_is_not_sent_twice(llm_app, llm: FakeLLM) -> None:
    _, llm_engine, url = llm_app
    second = llm_engine.search(QUESTION)[1]
    sentence = re.split(r"(?<=[。！？])", second.chunk.text)[0].rstrip("。！？")
    streamed = sentence + "[2]。"
    llm.script(stream([sentence, "[2]。"]))
    content, chunks = _streamed_content(url, QUESTION)
    # Verification renumbers [2] to [1]; the client keeps the streamed [2], and so do the sources.
    (cited,) = [Citation(**c) for c in chunks[-1].model_extra["citations"]]
    assert (cited.n, cited.chunk_id) == (2, second.chunk.chunk_id)
    assert content == with_sources(streamed, (cited,))
    assert content.count(sentence) == 1


def test_stream_cut_midway_sends_the_retrieval_answer_once_after_a_note(llm_app, llm: FakeLLM, fake_engine: Engine) -> None:
    _, _, url = llm_app
    llm.script(cut_stream(["产业互联网", "需要被正名，", "因为……[1]"], after_n_chunks=2))
    content, chunks = _streamed_content(url, QUESTION)
    offline = fake_engine.ask(QUESTION, mode="retrieval")
    assert content == "产业互联网需要被正名，" + RESTART_NOTE + with_sources(offline.answer, offline.citations)
    assert chunks[-1].model_extra["rag"]["degraded"] == "stream_broken"


def test_llm_rate_limited_degrades_to_a_cited_retrieval_answer(llm_app, llm: FakeLLM, fake_engine: Engine) -> None:
    _, _, url = llm_app
    llm.script(status(429))
    with openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0) as c:
        completion = c.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    expected = fake_engine.ask(QUESTION, mode="retrieval")
    assert completion.choices[0].message.content == with_sources(expected.answer, expected.citations)
    assert completion.model_extra["rag"] == {
        "mode": "retrieval",
        "grounded": True,
        "degraded": "rate_limited",
        "refused": False,
    }
    assert llm.pending == 0
    metrics = httpx.get(url + "/metrics").text.splitlines()
    assert 'rag_degraded_answers_total{reason="rate_limited"} 1.0' in metrics
    assert 'rag_answers_total{mode="retrieval"} 1.0' in metrics
    assert "rag_llm_duration_seconds_count 1.0" in metrics


def test_streamed_sources_keep_the_numbers_the_first_event_announced(fake_engine: Engine) -> None:
    """A stream whose numbering is its own (the reader's quotes cite the 2nd passage as [1]):
    when verification only added a marker, the sources are listed under the streamed numbers, not
    under the passages' places among the hits."""
    import asyncio
    import concurrent.futures
    import json

    hits = tuple(fake_engine.search(QUESTION)[:2])
    cited = Citation.from_hit(1, hits[1])
    streamed = "一句引文。[1]\n\n概括：一句概括。"
    final = Answer("一句引文。[1]\n\n概括：一句概括[1]。", (cited,), "llm", grounded=True, hits=hits)
    events = [Retrieved((cited,)), Delta("一句引文。[1]"), Delta("\n\n概括："), Delta("一句概括。"), Done(final)]

    async def collect() -> list[dict]:
        return [json.loads(e.data) async for e in completion_chunks(iter(events), Metrics(), "id", 0) if e.data != "[DONE]"]

    # In a thread of its own: a browser test's sync Playwright may leave a loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        chunks = pool.submit(asyncio.run, collect()).result()
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert [c["n"] for c in chunks[-1]["citations"]] == [1]
    assert content == with_sources(streamed, (cited,))
