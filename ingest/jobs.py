"""Background indexing: one worker thread, one job at a time, progress a client can follow.

Every job re-indexes the whole corpus folder (``run_ingest`` is incremental, so only new text is
embedded). A request while a job runs queues one more job; further requests while that one still
waits join it, since it will read the folder as it is when it starts.

With a :class:`~ingest.jobstore.JobStore` the jobs are also written to the index directory's jobs
file (on every change of state, progress at most once a second), so every worker of a server sees
every job and the history outlives a restart; :meth:`JobRunner.recover` re-indexes in place of the
jobs that a stopped or dead process left unfinished.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import IO

from ingest.jobstore import JobStore, Records
from rag.errors import NothingToIngestError, RagError

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
# ``run(progress, cancel)`` does the work and returns the ingest report as a dict.
RunFn = Callable[[Progress, threading.Event], dict]

STAGE_TEXT = {"queued": "排队中", "load": "读取文件", "embed": "嵌入段落", "embed_sentences": "嵌入句子",
              "index": "建立索引", "switch": "切换索引", "done": "完成", "failed": "失败", "cancelled": "已取消"}
OVER = ("done", "failed", "cancelled")
STOPPED = "任务已取消（服务正在停止）。"
RESUMED = "任务因服务重启而中断，已自动重新建立索引。"
RESUME_FAILED = "重新建立索引时服务再次中断，不再自动重试；请在管理页点击“重新建立索引”。"
# Progress reaches the jobs file at most this often (every change of state at once).
PROGRESS_WRITE_SECONDS = 1.0
# How often ``wait`` reads the jobs file for another process's job.
POLL_SECONDS = 0.2


@dataclass
class Job:
    """One indexing run; ``to_dict`` is the HTTP shape."""

    id: str
    reason: str
    state: str = "queued"  # queued | running | done | failed | cancelled
    percent: float = 0.0
    stage: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    errors: list[dict] = field(default_factory=list)
    message: str | None = None
    articles: int | None = None
    chunks: int | None = None
    version: str | None = None
    requests: int = 1
    owner: str | None = None  # the token of the runner that runs it (the jobs file)
    resume: bool = False  # cancelled as the server stopped: the next start re-indexes in its place

    @property
    def finished_ok(self) -> bool:
        return self.state == "done"

    @property
    def over(self) -> bool:
        return self.state in OVER

    def to_dict(self) -> dict:
        return {
            "id": self.id, "reason": self.reason, "state": self.state, "percent": round(self.percent, 1),
            "stage": self.stage, "stage_text": STAGE_TEXT.get(self.stage, self.stage), "created": self.created,
            "started": self.started, "finished": self.finished, "errors": list(self.errors), "message": self.message,
            "articles": self.articles, "chunks": self.chunks, "version": self.version, "requests": self.requests,
        }

    def record(self) -> dict:
        """The jobs file's shape: every field."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> Job:
        return cls(**{k: v for k, v in record.items() if k in _FIELDS})


_FIELDS = frozenset(f.name for f in fields(Job))


def newest(jobs: list[dict], keep: int) -> list[dict]:
    """Jobs (records or HTTP dicts) oldest first, without the oldest finished ones beyond ``keep``."""
    jobs = sorted(jobs, key=lambda j: j.get("created") or 0.0)
    extra = len(jobs) - keep
    if extra <= 0:
        return jobs
    dropped: set[int] = set()
    for n, job in enumerate(jobs):  # oldest first; a job that is not over is never dropped
        if len(dropped) == extra:
            break
        if job.get("state") in OVER:
            dropped.add(n)
    return [job for n, job in enumerate(jobs) if n not in dropped]


class JobRunner:
    """Runs jobs one after another in a single daemon thread; keeps the last ``keep`` jobs.

    ``store``: the jobs file shared with the index's other processes (workers, later runs). Reads
    then see their jobs too; this process's own jobs are always read from memory (live).
    """

    def __init__(self, run: RunFn, keep: int = 20, store: JobStore | None = None) -> None:
        self._run = run
        self._keep = keep
        self._store = store
        # Marks this runner's jobs in the jobs file; its owner file says whether it still lives.
        self.token = uuid.uuid4().hex
        self._owner: IO[str] | None = None  # held from this runner's first write until close
        self._released = False
        self._last_write = 0.0
        self._flush_timer: threading.Timer | None = None
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._pending: list[Job] = []
        self._cond = threading.Condition()
        self._cancel = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, reason: str) -> Job:
        """Queue a re-index; while one job already waits, join it instead of adding another."""
        job = self._enqueue(reason)
        self._persist()
        return job

    def _enqueue(self, reason: str) -> Job:
        with self._cond:
            if self._closed:
                raise RuntimeError("job runner is closed")
            if self._pending:
                job = self._pending[-1]
                job.requests += 1
                if reason not in job.reason.split("+"):
                    job.reason += f"+{reason}"
                return job
            job = Job(id=uuid.uuid4().hex[:12], reason=reason, owner=self.token)
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs.values()))
                if not oldest.over:
                    break
                self._jobs.popitem(last=False)
            self._pending.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="ingest-jobs", daemon=True)
                self._thread.start()
            self._cond.notify_all()
            return job

    def recover(self) -> Job | None:
        """At start-up and then now and again: the jobs that a dead process left queued or
        running (its owner lock is free) are marked failed, those it cancelled as it stopped are
        marked too, and one ``resume`` job re-indexes the corpus folder in their place; returns it
        (``None``: nothing to recover). A resume job that died running is marked, not resumed
        again (``RESUME_FAILED``: it may be what kills the process). Done under the jobs file's
        lock and only for owners that are gone, so of several workers one resumes and the others
        find nothing left, however their starts and stops overlap."""
        store = self._store
        if store is None or not store.exists():
            return None
        resumed: list[Job] = []

        def change(records: Records) -> Records | None:
            # Only a dead owner's jobs: a live one may still be writing its stop (bugs otherwise: a
            # worker in close() rewrote its cancelled job after another had resumed it).
            stale = [r for r in records if r.get("owner") != self.token and not store.owner_alive(r.get("owner"))
                     and (r.get("resume") or r.get("state") not in OVER)]
            store.remove_dead_owners()
            if not stale:
                return None
            # A resume job whose process died while it ran is not resumed again: it may be what
            # kills the process (a crash loop); a stop during it (graceful) is resumed.
            again = [r for r in stale if r.get("resume") or "resume" not in str(r.get("reason", "")).split("+")]
            now = time.time()
            job = None
            if again:
                try:
                    job = self._enqueue("resume")
                except RuntimeError:  # closed meanwhile: the next start resumes
                    return None
            for record in stale:
                if record.get("state") not in OVER:
                    record.update(state="failed", stage="failed", finished=now)
                record.update(message=RESUMED if record in again else RESUME_FAILED, resume=False)
            log.warning("indexing jobs %s were interrupted by a stop%s", ", ".join(r["id"] for r in stale),
                        f": re-indexing (job {job.id})" if job is not None else "")
            if job is not None:
                resumed.append(job)
            return self._with_mine(records) or records

        store.update(change)
        return resumed[0] if resumed else None

    # --- reads: this process's jobs from memory, the others' from the jobs file ---------------
    def get(self, job_id: str) -> Job | None:
        with self._cond:
            job = self._jobs.get(job_id)
        return job if job is not None else self._on_disk(job_id)

    def snapshot(self, job_id: str) -> dict | None:
        """The job as a dict, read under the lock (the worker updates it concurrently)."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is not None:
                return job.to_dict()
        other = self._on_disk(job_id)
        return other.to_dict() if other is not None else None

    def jobs(self) -> list[dict]:
        """Most recent first."""
        return list(reversed(self._all()))

    def current(self) -> dict | None:
        """The running or waiting job, else the last one."""
        every = self._all()
        for job in reversed(every):
            if job["state"] not in OVER:
                return job
        return every[-1] if every else None

    def wait(self, job_id: str, timeout: float | None = None) -> dict | None:
        """Block until the job is over (or ``timeout``); returns its final snapshot. Another
        process's job is followed in the jobs file while its owner lives."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while job_id in self._jobs:
                job = self._jobs[job_id]
                left = None if deadline is None else deadline - time.monotonic()
                if job.over or (left is not None and left <= 0):
                    return job.to_dict()
                self._cond.wait(left)
        while True:
            other = self._on_disk(job_id)
            if other is None:
                return None
            left = None if deadline is None else deadline - time.monotonic()
            # An owner that died never finishes it: the next start marks it failed.
            if other.over or (left is not None and left <= 0) or not self._owner_alive(other.owner):
                return other.to_dict()
            time.sleep(POLL_SECONDS if left is None else min(POLL_SECONDS, left))

    def _disk(self) -> list[Job]:
        if self._store is None:
            return []
        jobs = []
        for record in self._store.read():
            try:
                jobs.append(Job.from_record(record))
            except (TypeError, ValueError):  # a record this version cannot read
                continue
        return jobs

    def _on_disk(self, job_id: str) -> Job | None:
        return next((job for job in self._disk() if job.id == job_id), None)

    def _owner_alive(self, token: str | None) -> bool:
        return self._store is not None and self._store.owner_alive(token)

    def orphaned(self, job_id: str) -> bool:
        """Whether the job is another process's, not over, and that process is gone (its record
        stays as it was until a start or ``recover`` marks it)."""
        with self._cond:
            if job_id in self._jobs:
                return False
        job = self._on_disk(job_id)
        return job is not None and not job.over and not self._owner_alive(job.owner)

    def _all(self) -> list[dict]:
        """Every job, oldest first: the others' from the jobs file, this process's from memory."""
        others = self._disk()
        with self._cond:
            mine = [job.to_dict() for job in self._jobs.values()]
        ids = {job["id"] for job in mine}
        return newest([job.to_dict() for job in others if job.id not in ids] + mine, self._keep)

    # --- the jobs file -----------------------------------------------------------------------
    def _persist(self, durable: bool = True) -> None:
        """Write this runner's jobs into the jobs file (a failure is logged: jobs still run)."""
        if self._store is None or not self._has_jobs():
            return  # a runner that never had a job writes nothing into the index folder
        try:
            self._store.update(self._with_mine, durable)
        except Exception as exc:  # noqa: BLE001 - the worker thread must outlive a bad write
            log.warning("cannot write the jobs file %s: %s", self._store.path, exc)

    def _with_mine(self, records: Records) -> Records | None:
        """``records`` with this runner's jobs as they are now (called under the jobs file lock,
        so the last write always carries the latest state)."""
        assert self._store is not None
        with self._cond:
            if self._released or not self._jobs:
                return None
            mine = {job.id: job.record() for job in self._jobs.values()}
            self._last_write = time.monotonic()
        if self._owner is None:  # before this runner's first job reaches the file
            self._owner = self._store.hold_owner(self.token)
        return newest([r for r in records if r["id"] not in mine] + list(mine.values()), self._keep)

    def _progress_written(self) -> None:
        """Write progress now if the last write is a second old, else once it is."""
        if self._store is None:
            return
        with self._cond:
            wait = PROGRESS_WRITE_SECONDS - (time.monotonic() - self._last_write)
            if wait > 0:
                if self._flush_timer is None and not self._closed:
                    self._flush_timer = threading.Timer(wait, self._flush)
                    self._flush_timer.daemon = True
                    self._flush_timer.start()
                return
        self._persist(durable=False)

    def _flush(self) -> None:
        with self._cond:
            self._flush_timer = None
        self._persist(durable=False)

    def close(self, timeout: float = 30.0) -> None:
        """Cancel the running job at its next safe point and stop the worker."""
        with self._cond:
            self._closed = True
            self._cancel.set()
            for job in self._pending:
                job.state = job.stage = "cancelled"
                job.finished = time.time()
                job.resume = True
            self._pending.clear()
            timer, self._flush_timer = self._flush_timer, None
            self._cond.notify_all()
        if timer is not None:
            timer.cancel()
        self._persist()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._store is not None and self._has_jobs() and (self._thread is None or not self._thread.is_alive()):
            try:
                self._store.update(self._release)
            except OSError as exc:
                log.warning("cannot remove the owner file of %s: %s", self._store.path, exc)

    def _has_jobs(self) -> bool:
        with self._cond:
            return bool(self._jobs)

    def _release(self, records: Records) -> None:
        """Under the jobs file lock: this runner's jobs are over and written; its owner file goes."""
        assert self._store is not None
        with self._cond:
            self._released = True
        if self._owner is not None:
            self._store.release_owner(self.token, self._owner)
            self._owner = None

    # --- worker ---------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._pending.pop(0)
                job.state, job.stage, job.started = "running", "load", time.time()
                self._cond.notify_all()
            self._persist()
            self._execute(job)

    def _execute(self, job: Job) -> None:
        def progress(percent: float, stage: str) -> None:
            with self._cond:
                job.percent = max(job.percent, min(100.0, percent))
                job.stage = stage
                self._cond.notify_all()
            self._progress_written()

        state, message, result = "done", None, {}
        try:
            result = self._run(progress, self._cancel)
        except KeyboardInterrupt:
            state, message = "cancelled", STOPPED
        except NothingToIngestError as exc:
            state, message = "failed", str(exc)
        except RagError as exc:  # an index or model error says what is wrong and how to fix it
            log.error("indexing job %s failed: %s", job.id, exc)
            state, message = "failed", f"建立索引失败：{exc}"
        except Exception as exc:
            log.exception("indexing job %s failed", job.id)
            state, message = "failed", f"建立索引失败：{type(exc).__name__}"
        with self._cond:
            job.state = job.stage = state
            job.message = message
            job.finished = time.time()
            job.resume = state == "cancelled"
            if state == "done":
                job.percent = 100.0
                job.errors = list(result.get("skipped", []))
                job.articles, job.chunks = result.get("articles"), result.get("chunks")
                job.version = result.get("version")
            self._cond.notify_all()
        self._persist()
