"""Background indexing: one worker thread, one job at a time, progress a client can follow.

Every job re-indexes the whole corpus folder (``run_ingest`` is incremental, so only new text is
embedded). A request while a job runs queues one more job; further requests while that one still
waits join it, since it will read the folder as it is when it starts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.errors import NothingToIngestError, RagError

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
# ``run(progress, cancel)`` does the work and returns the ingest report as a dict.
RunFn = Callable[[Progress, threading.Event], dict]

STAGE_TEXT = {"queued": "排队中", "load": "读取文件", "embed": "嵌入段落", "embed_sentences": "嵌入句子",
              "index": "建立索引", "switch": "切换索引", "done": "完成", "failed": "失败", "cancelled": "已取消"}


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

    @property
    def finished_ok(self) -> bool:
        return self.state == "done"

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    def to_dict(self) -> dict:
        return {
            "id": self.id, "reason": self.reason, "state": self.state, "percent": round(self.percent, 1),
            "stage": self.stage, "stage_text": STAGE_TEXT.get(self.stage, self.stage), "created": self.created,
            "started": self.started, "finished": self.finished, "errors": list(self.errors), "message": self.message,
            "articles": self.articles, "chunks": self.chunks, "version": self.version, "requests": self.requests,
        }


class JobRunner:
    """Runs jobs one after another in a single daemon thread; keeps the last ``keep`` jobs."""

    def __init__(self, run: RunFn, keep: int = 20) -> None:
        self._run = run
        self._keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._pending: list[Job] = []
        self._cond = threading.Condition()
        self._cancel = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, reason: str) -> Job:
        """Queue a re-index; while one job already waits, join it instead of adding another."""
        with self._cond:
            if self._closed:
                raise RuntimeError("job runner is closed")
            if self._pending:
                job = self._pending[-1]
                job.requests += 1
                if reason not in job.reason.split("+"):
                    job.reason += f"+{reason}"
                return job
            job = Job(id=uuid.uuid4().hex[:12], reason=reason)
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

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def snapshot(self, job_id: str) -> dict | None:
        """The job as a dict, read under the lock (the worker updates it concurrently)."""
        with self._cond:
            job = self._jobs.get(job_id)
            return job.to_dict() if job is not None else None

    def jobs(self) -> list[dict]:
        """Most recent first."""
        with self._cond:
            return [job.to_dict() for job in reversed(self._jobs.values())]

    def current(self) -> dict | None:
        """The running or waiting job, else the last one."""
        with self._cond:
            for job in reversed(self._jobs.values()):
                if not job.over:
                    return job.to_dict()
            last = next(reversed(self._jobs.values()), None)
            return last.to_dict() if last is not None else None

    def wait(self, job_id: str, timeout: float | None = None) -> dict | None:
        """Block until the job is over (or ``timeout``); returns its final snapshot."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                job = self._jobs.get(job_id)
                if job is None or job.over:
                    return job.to_dict() if job is not None else None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return job.to_dict()
                self._cond.wait(left)

    def close(self, timeout: float = 30.0) -> None:
        """Cancel the running job at its next safe point and stop the worker."""
        with self._cond:
            self._closed = True
            self._cancel.set()
            for job in self._pending:
                job.state = job.stage = "cancelled"
                job.finished = time.time()
            self._pending.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

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
            self._execute(job)

    def _execute(self, job: Job) -> None:
        def progress(percent: float, stage: str) -> None:
            with self._cond:
                job.percent = max(job.percent, min(100.0, percent))
                job.stage = stage
                self._cond.notify_all()

        state, message, result = "done", None, {}
        try:
            result = self._run(progress, self._cancel)
        except KeyboardInterrupt:
            state, message = "cancelled", "任务已取消（服务正在停止）。"
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
            if state == "done":
                job.percent = 100.0
                job.errors = list(result.get("skipped", []))
                job.articles, job.chunks = result.get("articles"), result.get("chunks")
                job.version = result.get("version")
            self._cond.notify_all()
