"""The app's document side: the corpus folder, the indexing job runner (its jobs kept in the index
directory's jobs file), and the engine switch after a job."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from fastapi import FastAPI

from api.switching import switch_now
from ingest.documents import Corpus
from ingest.jobs import Job, JobRunner, Progress
from ingest.jobstore import JobStore
from ingest.loaders import source_name
from ingest.pipeline import run_ingest
from rag import Engine

log = logging.getLogger(__name__)


# Beside the index versions: every worker serving the index, and the next run, read it.
JOBS_FILE = "jobs.json"


class Indexing:
    """Built once per app: jobs re-index ``settings.corpus_dir`` and switch the served engine."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        settings = app.state.settings
        self.corpus = Corpus(settings.corpus_dir, settings.upload_max_bytes)
        self.runner = JobRunner(self._run, store=JobStore(Path(settings.index_dir) / JOBS_FILE))

    def recover(self) -> Job | None:
        """Re-index in place of the jobs the last stop interrupted (see ``JobRunner.recover``).

        The lifespan calls it once the served engine is loaded (or failed to load): the job then
        embeds with the serving model instead of loading a second one beside it, and its switch
        cannot race the start-up load.
        """
        return self.runner.recover()

    def _run(self, progress: Progress, cancel: threading.Event) -> dict:
        state = self.app.state
        settings = state.settings
        engine: Engine | None = state.engine
        # The serving engine's embedder: no second copy of the model in memory.
        report = run_ingest([settings.corpus_dir], settings, progress=False, cancel=cancel, on_progress=progress,
                            embedder=engine.embedder if engine is not None else None)
        progress(97.0, "switch")
        # The same switch as /api/admin/reload and the index watcher, under the same lock.
        fresh, previous = switch_now(self.app)
        log.info("indexing job: %s -> %s", previous.version if previous else None, fresh.version)
        result = report.to_dict()
        # Each file that could not be indexed also by its name in the corpus folder, as the
        # documents list shows it (the path is the server's).
        root = Path(settings.corpus_dir).resolve()
        for problem in result.get("skipped", []):
            if problem.get("path"):
                problem.setdefault("name", source_name(Path(problem["path"]).resolve(), root))
        return result

    def close(self) -> None:
        self.runner.close()
