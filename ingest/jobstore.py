"""The jobs file of an index directory: indexing jobs shared by a server's workers and kept over restarts.

``jobs.json`` holds the recent jobs of every process serving the index. It is replaced atomically
(a temporary file, then ``os.replace``), so readers never lock; writers read, change and write it
under an ``flock`` on ``jobs.lock``. Each process that owns jobs holds an exclusive ``flock`` on its
own file in ``jobs-owners/`` for as long as it lives: the kernel releases it when the process
dies, however it dies, so "can the lock be taken?" tells a dead owner from a live one (a reused
PID cannot fool it).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

FORMAT = 1
Records = list[dict]


class JobStore:
    """``jobs.json`` (``path``), its lock and the owners' lock files beside it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_suffix(".lock")
        self._owners = self.path.with_name(self.path.stem + "-owners")

    # --- the jobs file ----------------------------------------------------------------------
    def read(self) -> Records:
        """The jobs on disk, oldest first; none when there is no file (or it cannot be read)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:  # a damaged file loses the history, not the server
            log.warning("cannot read the jobs file %s: %s", self.path, exc)
            return []
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("jobs"), list):
            log.warning("the jobs file %s is not in the expected format: ignored", self.path)
            return []
        return [r for r in data["jobs"] if isinstance(r, dict) and isinstance(r.get("id"), str)]

    def exists(self) -> bool:
        return self.path.exists()

    def update(self, change: Callable[[Records], Records | None], durable: bool = True) -> None:
        """Read the jobs, let ``change`` return the new list (``None``: no change) and write it,
        all under the file lock; ``durable`` syncs it to disk (state changes; not for progress)."""
        with self._locked():
            records = change(self.read())
            if records is not None:
                self._write(records, durable)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write(self, records: Records, durable: bool) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"format": FORMAT, "jobs": records}, fh, ensure_ascii=False)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    # --- owners -----------------------------------------------------------------------------
    def hold_owner(self, token: str) -> IO[str]:
        """Create and lock ``token``'s owner file; keep the returned handle open while alive.

        The file is locked before it gets its name, so no one ever sees it unlocked while its owner
        lives. Call under :meth:`update` (the sweep of :meth:`remove_dead_owners` runs under it too).
        """
        self._owners.mkdir(parents=True, exist_ok=True)
        final = self._owners / f"{token}.lock"
        tmp = self._owners / f".{token}.tmp"
        fh = open(tmp, "w")  # held open for the owner's lifetime
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(tmp, final)
        except BaseException:
            fh.close()
            tmp.unlink(missing_ok=True)
            raise
        return fh

    def release_owner(self, token: str, handle: IO[str]) -> None:
        """Remove the owner file (its jobs are all over) and let the lock go."""
        (self._owners / f"{token}.lock").unlink(missing_ok=True)
        handle.close()

    def owner_alive(self, token: str | None) -> bool:
        """True while the process that holds ``token``'s owner file lives (a shared probe, so that
        two processes looking at once do not take each other for the owner)."""
        if not token:
            return False
        try:
            fh = open(self._owners / f"{token}.lock")
        except FileNotFoundError:
            return False
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False

    def remove_dead_owners(self) -> None:
        """Delete the owner files of processes that died without removing theirs (under :meth:`update`)."""
        if not self._owners.is_dir():
            return
        for path in self._owners.glob("*.lock"):
            if not self.owner_alive(path.stem):
                path.unlink(missing_ok=True)
        for stale in self._owners.glob(".*.tmp"):  # an owner that died while creating its file
            stale.unlink(missing_ok=True)
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):  # a writer that died mid-write
            stale.unlink(missing_ok=True)
