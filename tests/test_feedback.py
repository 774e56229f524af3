"""The question log and 👍/👎 feedback: a real SQLite database, through a real server (fake-embedder engine) and directly."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from serve import running_server

from api.app import create_app
from rag import qlog as qlog_module
from rag.qlog import QuestionLog
from rag.types import Answer

KEY, TOKEN = "public-key-123", "admin-token-456"
QUESTION = "产业互联网和消费互联网有什么区别？"
OFF_TOPIC = "红烧肉怎么做才好吃？"


@pytest.fixture(scope="module")
def logged(fake_settings, fake_engine, tmp_path_factory):
    db = tmp_path_factory.mktemp("qlog") / "questions.db"
    settings = fake_settings.model_copy(update={
        "question_log": True, "question_log_url": f"sqlite:///{db}", "api_keys": [KEY],
        "admin_token": SecretStr(TOKEN)})
    with running_server(create_app(settings, engine=fake_engine)) as base:
        with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {KEY}"}) as client:
            yield client, db


def _admin(client: httpx.Client, path: str, **params) -> dict:
    res = client.get(path, params=params, headers={"Authorization": f"Bearer {TOKEN}"})
    assert res.status_code == 200, res.text
    return res.json()


def test_questions_feedback_and_filters(logged):
    client, db = logged
    answered = client.post("/api/ask", json={"question": QUESTION, "mode": "retrieval"}).json()
    refused = client.post("/api/chat", json={"messages": [{"role": "user", "content": OFF_TOPIC}],
                                             "mode": "retrieval"}).json()
    assert refused["refused"] is True and len(answered["feedback_id"]) == 32
    res = client.post("/api/feedback", json={"feedback_id": refused["feedback_id"], "rating": "down",
                                             "comment": f"没有答案 {TOKEN}"})
    assert (res.status_code, res.json()) == (200, {"ok": True})
    assert client.post("/api/feedback", json={"feedback_id": answered["feedback_id"], "rating": "up"}).status_code == 200
    res = client.post("/api/feedback", json={"feedback_id": "0" * 32, "rating": "up"})
    assert (res.status_code, res.json()["error"]["message"]) == (404, "找不到这条回答，可能已过期。")

    down = _admin(client, "/api/admin/questions", rating="down")["questions"]
    assert [(q["question"], q["route"], q["refused"], q["rating"], q["comment"]) for q in down] == [
        (OFF_TOPIC, "chat", True, "down", "没有答案 ***")]
    assert [q["question"] for q in _admin(client, "/api/admin/questions", refused="true")["questions"]] == [OFF_TOPIC]
    both = _admin(client, "/api/admin/questions")["questions"]
    assert [(q["question"], q["mode"], q["rating"], q["citations"] > 0) for q in both] == [
        (OFF_TOPIC, "retrieval", "down", False), (QUESTION, "retrieval", "up", True)]
    assert all(isinstance(q["latency_ms"], int) for q in both)
    today = _admin(client, "/api/admin/questions/daily", days=3)["days"]
    assert [d["questions"] for d in today][:2] == [0, 0]
    assert today[-1] | {"day": ""} == {"day": "", "questions": 2, "refused": 1, "up": 1, "down": 1}
    # Neither the API key of the requests nor the admin token is anywhere in the database's files
    # (SQLite in write-ahead mode: the rows are in the -wal file until a checkpoint).
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert KEY.encode() not in raw and TOKEN.encode() not in raw and QUESTION.encode() in raw


def test_streamed_answer_carries_its_feedback_id(logged):
    client, _ = logged
    with client.stream("POST", "/api/chat", json={"messages": [{"role": "user", "content": QUESTION}],
                                                   "stream": True, "mode": "retrieval"}) as res:
        done = [line for line in res.iter_lines() if line.startswith("data: ") and '"feedback_id"' in line]
    assert len(done) == 1 and '"feedback_id": "' in done[0].replace('":"', '": "')


def test_opted_out_server_stores_nothing(fake_settings, fake_engine):
    with running_server(create_app(fake_settings, engine=fake_engine)) as base:
        answer = httpx.post(base + "/api/ask", json={"question": QUESTION, "mode": "retrieval"}, timeout=60).json()
        res = httpx.post(base + "/api/feedback", json={"feedback_id": "x", "rating": "up"})
    assert answer["feedback_id"] is None
    assert (res.status_code, res.json()["error"]["code"]) == (404, "feedback_off")


def test_retention_deletes_old_rows(tmp_path, monkeypatch):
    log = QuestionLog(f"sqlite:///{tmp_path / 'sub' / 'q.db'}", retention_days=7)
    answer = Answer(answer="答", citations=(), mode="retrieval", grounded=False)
    old = log.record("旧问题", answer, "ask")
    log.flush()  # written (and the writer's own first purge done) before the clock moves
    real_now = qlog_module._now
    monkeypatch.setattr(qlog_module, "_now", lambda: real_now() + timedelta(days=8))
    new = log.record("新问题", answer, "ask")
    assert log.purge() == 1
    assert [q.id for q in log.recent()] == [new] and not log.feedback(old, up=True)


def test_queued_answers_are_written_before_any_read_and_on_close(tmp_path):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    log = QuestionLog(url)
    answer = Answer(answer="答", citations=(), mode="retrieval", grounded=False)
    ids = [log.record(f"问题{i}", answer, "ask") for i in range(450)]  # more than two write batches
    # Feedback on the answer just given finds its row, although the writer may not have reached it.
    assert log.feedback(ids[-1], up=False, comment="刚刚的回答")
    rows = log.recent(limit=500)
    assert sorted(q.id for q in rows) == sorted(ids)
    assert [(q.question, q.rating, q.comment) for q in rows if q.id == ids[-1]] == [("问题449", "down", "刚刚的回答")]
    last = log.record("关闭前的问题", answer, "chat")
    log.close()
    with pytest.raises(RuntimeError):
        log.record("关闭后的问题", answer, "ask")
    assert [q.question for q in QuestionLog(url).recent(limit=500) if q.id == last] == ["关闭前的问题"]


def test_rows_are_gathered_but_a_reader_does_not_wait_for_the_gathering(tmp_path, monkeypatch):
    monkeypatch.setattr(qlog_module, "_GATHER_SECONDS", 30.0)  # a writer that would sit on its rows
    log = QuestionLog(f"sqlite:///{tmp_path / 'q.db'}")
    answer = Answer(answer="答", citations=(), mode="retrieval", grounded=False)
    row_id = log.record("问题", answer, "ask")
    # flush() wakes the writer: it returns with the row written, long before the gathering time.
    assert log.flush(timeout=10) and [q.id for q in log.recent()] == [row_id]
    log.close()


def test_feedback_reaches_an_answer_another_worker_is_still_gathering(tmp_path):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    answering, rating = QuestionLog(url), QuestionLog(url)  # two workers, one database
    answer = Answer(answer="答", citations=(), mode="retrieval", grounded=False)
    rating.recent()  # tables created
    row_id = answering.record("问题", answer, "ask")  # not written yet: the writer gathers
    assert rating.feedback(row_id, up=True)
    assert [(q.id, q.rating) for q in answering.recent()] == [(row_id, "up")]
    answering.close()
    rating.close()


def test_a_failing_database_loses_the_row_not_the_request(tmp_path, caplog):
    log = QuestionLog(f"sqlite:///{tmp_path}")  # a directory: SQLite cannot open it
    answer = Answer(answer="答", citations=(), mode="retrieval", grounded=False)
    row_id = log.record("问题", answer, "ask")
    assert len(row_id) == 32 and log.flush(timeout=30)
    assert "cannot write 1 question(s) to the question log" in caplog.text
