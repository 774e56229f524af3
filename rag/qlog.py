"""The question log: what users asked, how it was answered, and their 👍/👎, in a real database.

SQLAlchemy Core over any URL (``sqlite:///var/questions.db`` by default, PostgreSQL through
``postgresql+psycopg://…``). Old rows are deleted after ``retention_days``. Request headers,
API keys and tokens are never stored; a configured secret typed into a question is masked.

Answers are written by a thread of the log's own, in batches: a request pays for building its
row, not for a database transaction (measured: 0.8 ms of CPU and 1.3 ms per answered question with
SQLite, on the request's path). Every read and every 👍/👎 first waits for the rows already
recorded, so feedback on an answer just given finds it (with several workers, the one that gave the
answer may still be gathering its row: feedback for an id not found tries again after that time).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rag.types import Answer

_ANSWER_MAX = 2000
_COMMENT_MAX = 500
_PURGE_EVERY = 3600.0
_PENDING_MAX = 1000  # rows waiting for the writer; a request waits for room beyond that (bounded memory)
_BATCH_MAX = 200  # rows per write transaction
_EXIT_FLUSH_SECONDS = 5.0  # at interpreter exit, wait this long at most for queued rows
# The writer gathers rows this long before a transaction, unless a reader is waiting for them: one
# transaction per question cost a busy server's requests 1-2 ms each (bench/README.md, "The
# question log's writes").
_GATHER_SECONDS = 0.25

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoggedQuestion:
    """One row of the log as the admin page shows it."""

    id: str
    created: str
    route: str
    question: str
    answer: str
    mode: str
    refused: bool
    degraded: str | None
    grounded: bool
    citations: int
    latency_ms: int | None
    rating: str | None  # up | down | None
    comment: str | None

    def to_dict(self) -> dict:
        return asdict(self)


class QuestionLog:
    """Thread-safe; the tables are created on first use."""

    def __init__(self, url: str, retention_days: int = 90, secrets: list[str] | None = None) -> None:
        import sqlalchemy as sa

        self.url = url
        self.retention = timedelta(days=retention_days)
        self._secrets = [s for s in (secrets or []) if s]
        self._sa = sa
        self._meta = sa.MetaData()
        self.table = sa.Table(
            "questions", self._meta,
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("created", sa.DateTime(), nullable=False, index=True),
            sa.Column("route", sa.String(16), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("answer", sa.Text(), nullable=False),
            sa.Column("mode", sa.String(16), nullable=False),
            sa.Column("refused", sa.Boolean(), nullable=False),
            sa.Column("degraded", sa.String(64)),
            sa.Column("grounded", sa.Boolean(), nullable=False),
            sa.Column("citations", sa.Integer(), nullable=False),
            sa.Column("latency_ms", sa.Integer()),
            sa.Column("rating", sa.SmallInteger()),  # 1 = 👍, -1 = 👎
            sa.Column("comment", sa.Text()),
            sa.Column("rated", sa.DateTime()),
        )
        self._engine = None
        self._lock = threading.Lock()
        self._purged = 0.0
        self._pending: deque[dict] = deque()
        self._writing = 0  # rows taken by the writer and not yet committed (or dropped)
        self._changed = threading.Condition()
        self._writer: threading.Thread | None = None
        self._closed = False
        self._waiting = 0  # flush() calls waiting for the rows: the writer writes at once

    def _db(self):
        with self._lock:
            if self._engine is None:
                url = self._sa.engine.make_url(self.url)
                if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                engine = self._sa.create_engine(url)
                if url.get_backend_name() == "sqlite":
                    self._sa.event.listen(engine, "connect", _sqlite_pragmas)
                self._meta.create_all(engine)
                self._engine = engine
            return self._engine

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def record(self, question: str, answer: Answer, route: str) -> str:
        """Queue one answered question for the writer; returns the id its feedback refers to.

        The row is built (and its time taken) now; a database that fails later loses the row
        (logged), and its feedback is then answered as for an unknown id.
        """
        row_id = uuid.uuid4().hex
        values = dict(
            id=row_id, created=_now(), route=route, question=self._mask(question),
            answer=self._mask(answer.answer[:_ANSWER_MAX]), mode=answer.mode, refused=answer.refused,
            degraded=answer.degraded, grounded=answer.grounded, citations=len(answer.citations),
            latency_ms=None if answer.took_ms is None else round(answer.took_ms),
        )
        with self._changed:
            if self._closed:
                raise RuntimeError("the question log is closed")
            while len(self._pending) >= _PENDING_MAX:
                self._changed.wait()
            self._pending.append(values)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, daemon=True, name="question-log")
                self._writer.start()
                atexit.register(self.flush, _EXIT_FLUSH_SECONDS)
            self._changed.notify_all()
        return row_id

    def _write_loop(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                if not self._pending:
                    return  # closed and drained
                self._changed.wait_for(lambda: self._closed or self._waiting or len(self._pending) >= _BATCH_MAX,
                                       _GATHER_SECONDS)
                batch = [self._pending.popleft() for _ in range(min(len(self._pending), _BATCH_MAX))]
                self._writing = len(batch)
                self._changed.notify_all()  # room for requests waiting on a full queue
            try:
                with self._db().begin() as conn:
                    conn.execute(self.table.insert(), batch)
                if time.monotonic() - self._purged > _PURGE_EVERY:
                    self.purge(flush=False)
            except Exception:
                log.exception("cannot write %d question(s) to the question log", len(batch))
            finally:
                with self._changed:
                    self._writing = 0
                    self._changed.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every row recorded so far is written (or failed); False if ``timeout`` passed first."""
        with self._changed:
            self._waiting += 1
            self._changed.notify_all()
            try:
                return self._changed.wait_for(lambda: not (self._pending or self._writing), timeout)
            finally:
                self._waiting -= 1

    def feedback(self, row_id: str, up: bool, comment: str | None = None) -> bool:
        """Set (or change) the 👍/👎 of an answer; False when the id is unknown or expired."""
        comment = self._mask(comment.strip()[:_COMMENT_MAX]) if comment and comment.strip() else None
        self.flush()
        update = (self.table.update().where(self.table.c.id == row_id)
                  .values(rating=1 if up else -1, comment=comment, rated=_now()))
        with self._db().begin() as conn:
            done = conn.execute(update)
        if done.rowcount == 0:
            # Answered by another worker, whose writer may still be gathering the row: once more
            # after its gathering time (a worker's flush() reaches its own rows only).
            time.sleep(_GATHER_SECONDS + 0.1)
            with self._db().begin() as conn:
                done = conn.execute(update)
        return done.rowcount == 1

    def recent(self, limit: int = 50, refused: bool | None = None, rating: str | None = None) -> list[LoggedQuestion]:
        """Newest first, optionally only refusals and/or only 👍 or 👎 ones."""
        t = self.table
        query = self._sa.select(t).order_by(t.c.created.desc()).limit(limit)
        if refused is not None:
            query = query.where(t.c.refused == refused)
        if rating is not None:
            query = query.where(t.c.rating == (1 if rating == "up" else -1))
        self.flush()
        with self._db().connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [LoggedQuestion(
            id=r["id"], created=r["created"].replace(tzinfo=UTC).isoformat(timespec="seconds"), route=r["route"],
            question=r["question"], answer=r["answer"], mode=r["mode"], refused=r["refused"], degraded=r["degraded"],
            grounded=r["grounded"], citations=r["citations"], latency_ms=r["latency_ms"],
            rating={1: "up", -1: "down"}.get(r["rating"]), comment=r["comment"],
        ) for r in rows]

    def daily(self, days: int = 14) -> list[dict]:
        """Per UTC day of the last ``days``: questions, refusals, 👍 and 👎 (days without questions too)."""
        t = self.table
        today = _now().date()
        first = today - timedelta(days=days - 1)
        start = datetime.combine(first, datetime.min.time())
        # Aggregated here rather than with a date function in SQL: the same code on SQLite and PostgreSQL.
        self.flush()
        with self._db().connect() as conn:
            rows = conn.execute(self._sa.select(t.c.created, t.c.refused, t.c.rating).where(t.c.created >= start))
            counts = {first + timedelta(days=i): {"questions": 0, "refused": 0, "up": 0, "down": 0}
                      for i in range(days)}
            for created, refused, rating in rows:
                day = counts.get(created.date())
                if day is None:
                    continue
                day["questions"] += 1
                day["refused"] += bool(refused)
                day["up"] += rating == 1
                day["down"] += rating == -1
        return [{"day": d.isoformat(), **c} for d, c in sorted(counts.items())]

    def purge(self, flush: bool = True) -> int:
        """Delete rows older than the retention period; returns how many."""
        if flush:
            self.flush()
        self._purged = time.monotonic()
        with self._db().begin() as conn:
            done = conn.execute(self.table.delete().where(self.table.c.created < _now() - self.retention))
        return done.rowcount

    def close(self) -> None:
        """Write what is queued, stop the writer and close the database connections."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            writer = self._writer
        if writer is not None:
            writer.join()
        if self._engine is not None:
            self._engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """A SQLite log in write-ahead mode, synced at checkpoints: a commit no longer creates, syncs and
    deletes a journal file (a power cut may lose the last rows, never the file's consistency), and
    readers (the admin page, another worker) do not block the writer."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _now() -> datetime:
    """UTC without tzinfo: stored alike by SQLite and PostgreSQL ``timestamp`` columns."""
    return datetime.now(UTC).replace(tzinfo=None)
