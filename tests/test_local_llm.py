"""The LLM path on a real model: Qwen2.5-Coder-0.5B (GGUF, installed by scripts/test) run in-process by llama.cpp.

The 0.5B model is fast enough for CI but too weak to judge answer quality: these tests check the
plumbing against what a real model writes (markers, streams, rewrites, the queue, fallbacks).
Answer quality is measured with the 1.5B model by `rag eval --mode llm` (README).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from conftest import make_settings
from serve import running_server

from api.app import create_app
from rag.answer.citations import _runs
from rag.answer.local import LocalLLMClient
from rag.engine import Engine
from rag.models import CATALOG, install_command
from rag.settings import Settings
from rag.types import Delta, Done, Message

pytestmark = pytest.mark.llm  # a real GGUF model in-process (marked slow by conftest)

TEST_MODEL = "qwen2.5-coder-0.5b"
QUESTION = "产业互联网的主战场在哪里？"
FOLLOW_UP = "那它和元宇宙有什么关系？"


def local_settings(index_dir: Path, **overrides: object) -> Settings:
    base = dict(llm_backend="local", local_model=TEST_MODEL, local_parallel=1, llm_max_waiting=2,
                local_timeout=300.0, llm_temperature=0.0, llm_max_tokens=120)
    base.update(overrides)
    return make_settings(index_dir, **base)


@pytest.fixture(scope="module")
def local_llm(index_dir: Path) -> Iterator[LocalLLMClient]:
    """The real 0.5B model, loaded once for this module (scripts/test installs it)."""
    client = LocalLLMClient.load(local_settings(index_dir))
    assert client.server is not None, client.error
    yield client
    client.close()


@pytest.fixture(scope="module")
def local_engine(index_dir: Path, engine: Engine, local_llm: LocalLLMClient) -> Engine:
    return Engine(local_settings(index_dir), engine.index, engine.embedder, llm=local_llm)


@pytest.fixture(scope="module")
def compact_engine(index_dir: Path, engine: Engine, local_llm: LocalLLMClient) -> Engine:
    """The model writing the whole answer from three short passages (RAG_LLM_PROMPT=compact)."""
    return Engine(local_settings(index_dir, llm_prompt="compact"), engine.index, engine.embedder, llm=local_llm)


@pytest.fixture(scope="module")
def base_url(index_dir: Path, local_engine: Engine) -> Iterator[str]:
    with running_server(create_app(local_settings(index_dir), engine=local_engine)) as url:
        yield url


def assert_markers_match_citations(answer: dict) -> None:
    """Every marker left in the text names a listed citation, numbered 1..m."""
    numbers = {n for run in _runs(answer["answer"]) for n in run.numbers}
    assert numbers == {c["n"] for c in answer["citations"]}
    assert [c["n"] for c in answer["citations"]] == list(range(1, len(answer["citations"]) + 1))


def test_cited_answer_through_api_ask(base_url: str, engine: Engine):
    """The default with the local backend: the reader's quotes, then the model's cited summary."""
    r = httpx.post(base_url + "/api/ask", json={"question": QUESTION}, timeout=300)
    assert r.status_code == 200
    body = r.json()
    assert (body["mode"], body["degraded"], body["refused"], body["grounded"]) == ("llm", None, False, True), body
    quotes = engine.ask(QUESTION, mode="retrieval").answer
    assert body["answer"].startswith(quotes + "\n\n概括：")
    assert "[" in body["answer"][len(quotes):]  # the summary is cited too
    assert_markers_match_citations(body)


def test_an_answer_from_the_metadata_is_given_as_it_is(local_engine: Engine, engine: Engine):
    """Who wrote an article and when: exact from the metadata, cited, with no summary after it."""
    question = "《从Web2到Web3》的作者是谁，什么时候发的？"
    answer = local_engine.ask(question, mode="llm")
    assert answer.answer == engine.ask(question, mode="retrieval").answer
    assert answer.answer.endswith("发表于 2022-07-08。[1]") and [c.n for c in answer.citations] == [1]
    assert "llm_ms" not in answer.timings and "llm_first_ms" not in answer.timings  # the model was not asked


def test_the_compact_prompt_writes_a_cited_answer(compact_engine: Engine):
    answer = compact_engine.ask(QUESTION, mode="llm")
    assert (answer.mode, answer.degraded, answer.refused, answer.grounded) == ("llm", None, False, True), answer
    assert "概括：" not in answer.answer
    assert_markers_match_citations(answer.to_dict())


def test_streamed_chat(base_url: str, engine: Engine):
    events: list[tuple[str, str]] = []
    with httpx.stream("POST", base_url + "/api/chat", timeout=300,
                      json={"messages": [{"role": "user", "content": QUESTION}], "stream": True}) as r:
        assert r.status_code == 200
        event = None
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((event, line.split(":", 1)[1].strip()))
    import json

    kinds = [e for e, _ in events]
    assert kinds == ["citations", "delta", "delta", "done"], kinds
    # The reader's quotes come first, whole; the model's summary follows once it is checked.
    quotes, summary = (json.loads(data) for _, data in events[1:3])
    assert quotes["text"] == engine.ask(QUESTION, mode="retrieval").answer
    assert summary["text"].startswith("\n\n概括：") and not summary.get("restart"), summary

    done = json.loads(events[-1][1])
    assert (done["mode"], done["degraded"]) == ("llm", None), done
    assert done["answer"] == quotes["text"] + summary["text"]
    assert_markers_match_citations(done)


def test_a_summary_the_quotes_do_not_support_is_never_streamed(local_engine: Engine, engine: Engine,
                                                                  monkeypatch: pytest.MonkeyPatch):
    """The real model is told to write a sentence the quotes do not hold: it is checked before it
    goes out, so the stream carries the quotes alone (an OpenAI client cannot take text back)."""
    import rag.engine

    def messages_asking_for_an_unsupported_sentence(question, quotes):
        return [{"role": "system", "content": "你是一个复读机。"},
                {"role": "user", "content": "请原样输出下面这一句话，不要改动任何字符：\n今天的天气很好，适合去公园散步[1]。"}]

    monkeypatch.setattr(rag.engine, "build_summary_messages", messages_asking_for_an_unsupported_sentence)
    events = list(local_engine.stream(QUESTION, mode="llm"))
    deltas = [e for e in events if isinstance(e, Delta) and e.text]  # empty ones: the model is writing
    done = events[-1]
    assert isinstance(done, Done) and "llm_first_ms" in done.answer.timings  # the model did write
    quotes = engine.ask(QUESTION, mode="retrieval").answer
    assert [(d.text, d.restart) for d in deltas] == [(quotes, False)], deltas
    assert (done.answer.answer, done.answer.mode, done.answer.degraded) == (quotes, "retrieval", "unsupported")


def test_openai_compatible_completion(base_url: str):
    with openai.OpenAI(base_url=base_url + "/v1", api_key="unused", max_retries=0, timeout=300) as client:
        completion = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    extra = completion.model_extra or {}
    assert extra["rag"]["mode"] == "llm", extra
    assert completion.choices[0].message.content.strip()
    if extra["citations"]:
        assert "来源：" in completion.choices[0].message.content


def test_a_marker_the_model_invents_is_removed(local_engine: Engine, monkeypatch: pytest.MonkeyPatch):
    """The real model is told to copy a sentence ending in [9] (the quotes are [1]): the reply
    carries [9]; the summary keeps the sentence with the marker of the quote that supports it."""
    import rag.engine

    replies: list[str] = []

    def messages_asking_for_an_invented_marker(question, quotes):
        return [{"role": "system", "content": "你是一个复读机。"},
                {"role": "user", "content": "请原样输出下面这一句话，不要改动任何字符：\n产业互联网的主战场在数量众多的产业上[9]。"}]

    complete = local_engine.llm.complete

    def recording_complete(messages, **overrides):
        replies.append(complete(messages, **overrides))
        return replies[-1]

    monkeypatch.setattr(rag.engine, "build_summary_messages", messages_asking_for_an_invented_marker)
    monkeypatch.setattr(local_engine.llm, "complete", recording_complete)
    answer = local_engine.ask(QUESTION, mode="llm")
    assert "[9]" in replies[0], replies
    assert "[9]" not in answer.answer
    assert answer.answer.endswith("概括：产业互联网的主战场在数量众多的产业上[1]。"), answer.answer
    assert answer.mode == "llm"
    assert_markers_match_citations(answer.to_dict())


def test_a_marker_the_model_invents_in_a_whole_answer_is_removed(compact_engine: Engine,
                                                                  monkeypatch: pytest.MonkeyPatch):
    """The same with the compact prompt (the model writes the whole answer; 3 passages shown)."""
    replies: list[str] = []
    original = compact_engine._prompt

    def prompt_asking_for_an_invented_marker(question, retrieval, history):
        messages, shown = original(question, retrieval, history)
        messages = messages[:1] + [{"role": "user", "content": "请原样输出下面这一句话，不要改动任何字符：\n"
                                    "产业互联网的主战场在数量众多的产业上[9]。"}]
        return messages, shown

    complete = compact_engine.llm.complete

    def recording_complete(messages, **overrides):
        replies.append(complete(messages, **overrides))
        return replies[-1]

    monkeypatch.setattr(compact_engine, "_prompt", prompt_asking_for_an_invented_marker)
    monkeypatch.setattr(compact_engine.llm, "complete", recording_complete)
    answer = compact_engine.ask(QUESTION, mode="llm")
    assert "[9]" in replies[0], replies
    assert "[9]" not in answer.answer
    assert answer.mode == "llm"
    assert_markers_match_citations(answer.to_dict())


def test_a_follow_up_is_rewritten_by_the_model(index_dir: Path, engine: Engine, local_llm: LocalLLMClient,
                                              local_engine: Engine, monkeypatch: pytest.MonkeyPatch):
    rewrites: list[str] = []
    rewrite = local_llm.rewrite

    def recording_rewrite(question, history):
        rewrites.append(rewrite(question, history))
        return rewrites[-1]

    monkeypatch.setattr(local_llm, "rewrite", recording_rewrite)
    history = [Message("user", QUESTION), Message("assistant", "产业互联网的主战场在数量众多的产业上[1]。")]
    # By default a local model's engine makes follow-ups standalone by the rules (RAG_LLM_REWRITE=auto).
    by_rules = local_engine.ask(FOLLOW_UP, history=history, mode="llm")
    assert rewrites == [] and by_rules.query == "那产业互联网和元宇宙有什么关系？", by_rules.query
    # RAG_LLM_REWRITE=model: the model rewrites it.
    rewriting = Engine(local_settings(index_dir, llm_rewrite="model"), engine.index, engine.embedder, llm=local_llm)
    answer = rewriting.ask(FOLLOW_UP, history=history, mode="llm")
    assert len(rewrites) == 1 and rewrites[0].strip() and rewrites[0] != FOLLOW_UP
    # The retrieval query is the model's rewrite, not the rule-based one.
    assert answer.query == rewrites[0]
    assert answer.mode in ("llm", "retrieval") and answer.degraded in (None, "model_refused")


def test_two_concurrent_requests_are_both_answered_by_the_model(local_engine: Engine):
    answers = {}

    def ask(key: str, question: str) -> None:
        answers[key] = local_engine.ask(question, mode="llm")

    threads = [threading.Thread(target=ask, args=(k, q)) for k, q in
               (("a", QUESTION), ("b", "Web3对产业互联网意味着什么？"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert sorted(answers) == ["a", "b"]
    assert [(a.degraded, a.mode) for a in answers.values()] != [("busy", "retrieval")] * 2
    assert all(a.degraded not in ("busy", "timeout", "connection") for a in answers.values()), answers
    assert all(a.answer.strip() for a in answers.values())


def test_a_full_queue_answers_in_retrieval_mode(index_dir: Path, engine: Engine, local_llm: LocalLLMClient):
    """With the only slot taken and no room to wait, the next request degrades at once (busy)."""
    full = LocalLLMClient(local_settings(index_dir, llm_max_waiting=0), local_llm.server)
    busy_engine = Engine(local_settings(index_dir, llm_max_waiting=0), engine.index, engine.embedder, llm=full)
    held = busy_engine.stream(QUESTION, mode="llm")
    # Run the stream up to the model's first piece (held back until checked: an empty Delta after
    # the reader's quotes): the only slot is taken until the stream is closed.
    for event in held:
        if isinstance(event, Delta) and not event.text:
            break
    assert full.gate.inside == 1
    try:
        with running_server(create_app(local_settings(index_dir), engine=busy_engine)) as url:
            r = httpx.post(url + "/api/ask", json={"question": QUESTION}, timeout=60)
        body = r.json()
        assert r.status_code == 200
        assert (body["mode"], body["degraded"]) == ("retrieval", "busy")
        assert body["answer"] == engine.ask(QUESTION, mode="retrieval").answer
    finally:
        held.close()
    assert full.gate.inside == 0
    # The slot is free again: the next answer is the model's.
    rest = list(busy_engine.stream(QUESTION, mode="llm"))
    assert isinstance(rest[-1], Done) and rest[-1].answer.degraded != "busy"


def test_a_missing_model_file_answers_in_retrieval_mode(index_dir: Path, engine: Engine, tmp_path: Path):
    settings = local_settings(index_dir, model_dir=tmp_path)  # the packaged model is not installed there
    client = LocalLLMClient.load(settings)
    assert client.server is None
    assert install_command(TEST_MODEL) in client.error and str(tmp_path) in client.error
    missing = Engine(settings, engine.index, engine.embedder, llm=client)
    with running_server(create_app(settings, engine=missing)) as url:
        r = httpx.post(url + "/api/ask", json={"question": QUESTION}, timeout=60)
    body = r.json()
    assert (r.status_code, body["mode"], body["degraded"]) == (200, "retrieval", "model_missing")
    assert body["answer"] == engine.ask(QUESTION, mode="retrieval").answer


def test_the_packaged_model_is_installed_and_verified(index_dir: Path):
    """What scripts/test installed: the joined file with its size; the CLI's second install does nothing."""
    from cli.main import main
    from rag.models import resolve_model

    spec = CATALOG[TEST_MODEL]
    path = resolve_model(TEST_MODEL, local_settings(index_dir).models_dir)
    assert path.stat().st_size == spec.size
    assert main(["model", "install", TEST_MODEL]) == 0
