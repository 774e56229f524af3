"""RAG_INDEX_BACKEND=milvus: Milvus Lite as a file and as a local server finds what the local backend finds.

The Milvus indexes are built from a copy of the session's local index: switching the backend
reuses its vectors (nothing is re-embedded), so these tests pay for inserts, not for the model.
Lite stands in for the engine: the tests compare which passages come back, not exact scores.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, make_settings, stop_process

from ingest.pipeline import run_ingest
from rag.engine import Engine
from rag.errors import IndexCorruptError, IndexUnavailableError
from rag.index.milvus import MilvusSearch, connect
from rag.index.store import VersionWriter, current_version, open_index

QUESTIONS = (
    "产业互联网的主战场在哪里？",
    "消费互联网和产业互联网有什么区别？",
    "Web3和产业互联网有什么关系？",
    "黄奇帆",
    "数字化转型的难点是什么？",
)
OFF_TOPIC = "红烧肉怎么做才好吃？"


def _milvus_copy(engine: Engine, root: Path, uri: str, prefix: str = "rag_test"):
    """The session index copied under ``root`` and switched to Milvus at ``uri``: (settings, report)."""
    shutil.copytree(engine.settings.index_dir, root / "index")
    settings = make_settings(root / "index", index_backend="milvus", milvus_uri=uri, milvus_collection=prefix)
    return settings, run_ingest([CORPUS], settings, progress=False, embedder=engine.embedder)


def _same_answers(engine: Engine, other: Engine) -> None:
    for q in QUESTIONS:
        local, milvus = engine.search(q), other.search(q)
        assert [h.chunk.chunk_id for h in milvus] == [h.chunk.chunk_id for h in local], q
        assert other.ask(q, mode="retrieval").answer == engine.ask(q, mode="retrieval").answer, q
    assert other.ask(OFF_TOPIC, mode="retrieval").refused


@pytest.fixture(scope="module")
def file_engine(engine, tmp_path_factory):
    root = tmp_path_factory.mktemp("milvus_file")
    settings, report = _milvus_copy(engine, root, str(root / "milvus.db"))
    assert (report.embedded, report.unchanged) == (0, False)  # the local version's vectors were reused
    return Engine.open(settings, embedder=engine.embedder)


def test_milvus_lite_file_finds_and_answers_what_local_does(engine, file_engine):
    assert file_engine.stats()["index_backend"] == "milvus"
    assert file_engine.stats()["chunks"] == engine.stats()["chunks"]
    assert file_engine.index.search.count() == len(engine.index.chunks)
    _same_answers(engine, file_engine)


def test_bigram_idf_is_the_local_one(engine, file_engine):
    for token in ("产业", "互联", "主战", "红烧", "zz"):
        assert file_engine.index.bigram_idf(token) == pytest.approx(engine.index.bigram_idf(token), rel=1e-6)


def test_milvus_ingest_is_incremental_and_deletions_remove_chunks(engine, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings, first = _milvus_copy(engine, tmp_path, str(tmp_path / "milvus.db"), prefix="rag_inc")
    settings = settings.model_copy(update={"corpus_dir": corpus})
    first = run_ingest([corpus], settings, progress=False, embedder=engine.embedder)
    again = run_ingest([corpus], settings, progress=False, embedder=engine.embedder)
    assert again.unchanged and again.embedded == 0
    before = {c.article_id for c in open_index(settings.index_dir, settings=settings).chunks}
    sorted(corpus.iterdir())[0].unlink()
    after = run_ingest([corpus], settings, progress=False, embedder=engine.embedder)
    assert (after.embedded, after.articles) == (0, first.articles - 1)
    index = open_index(settings.index_dir, settings=settings)
    assert index.search.count() == after.chunks == len(index.chunks)
    assert len(before - {c.article_id for c in index.chunks}) == 1
    # Two versions are kept (RAG_KEEP_VERSIONS=2): only their collections remain.
    client = connect(settings.milvus_uri)
    kept = sorted(p.name.replace("-", "_") for p in (settings.index_dir / "versions").iterdir())
    assert sorted(c.removeprefix("rag_inc_") for c in client.list_collections() if c.startswith("rag_inc_")) == kept


def test_delete_article_removes_its_chunks_from_search(engine, tmp_path):
    settings, _ = _milvus_copy(engine, tmp_path, str(tmp_path / "milvus.db"), prefix="rag_del")
    index = open_index(settings.index_dir, settings=settings)
    search: MilvusSearch = index.search
    top = search.lexical("bigrams", QUESTIONS[0], 5).rows
    article_id = index.chunks[int(top[0])].article_id
    rows = [i for i, c in enumerate(index.chunks) if c.article_id == article_id]
    assert search.delete_article(article_id) == len(rows)
    assert search.count() == len(index.chunks) - len(rows)
    for name in ("words", "bigrams"):
        assert not set(search.lexical(name, QUESTIONS[0], 40).rows.tolist()) & set(rows)
    assert not set(search.dense(engine.embedder.embed_query(QUESTIONS[0]), 40).rows.tolist()) & set(rows)
    # The local backend hides them the same way.
    local = open_index(engine.settings.index_dir).search
    assert local.delete_article(article_id) == len(rows)
    assert not set(local.lexical("bigrams", QUESTIONS[0], 40).rows.tolist()) & set(rows)


def test_a_dead_milvus_ingest_leaves_the_previous_version_searchable(engine, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings, _ = _milvus_copy(engine, tmp_path, str(tmp_path / "milvus.db"), prefix="rag_dead")
    before = current_version(settings.index_dir)
    (corpus / "extra.txt").write_text("产业互联网需要新的基础设施。" * 30, encoding="utf-8")

    def die(self):  # the collection is written, the version not yet published
        raise RuntimeError("killed")

    monkeypatch.setattr(VersionWriter, "commit", die)
    with pytest.raises(RuntimeError, match="killed"):
        run_ingest([corpus], settings, progress=False, embedder=engine.embedder)
    assert current_version(settings.index_dir) == before
    served = Engine.open(settings, embedder=engine.embedder)
    assert served.search(QUESTIONS[0])[0].chunk.chunk_id == engine.search(QUESTIONS[0])[0].chunk.chunk_id
    collections = [c for c in connect(settings.milvus_uri).list_collections() if c.startswith("rag_dead_")]
    assert collections == [served.index.manifest.backend["collection"]]  # the unfinished one was dropped


def test_a_missing_collection_is_a_damaged_index_that_ingest_rebuilds(engine, tmp_path):
    settings, _ = _milvus_copy(engine, tmp_path, str(tmp_path / "milvus.db"), prefix="rag_gone")
    collection = open_index(settings.index_dir, settings=settings).manifest.backend["collection"]
    connect(settings.milvus_uri).drop_collection(collection)
    with pytest.raises(IndexCorruptError, match=f"Milvus 集合 {collection} 不存在"):
        open_index(settings.index_dir, settings=settings)
    report = run_ingest([CORPUS], settings, progress=False, embedder=engine.embedder)
    assert report.repaired and "不存在" in report.repaired and report.embedded > 0  # the vectors went with it
    assert open_index(settings.index_dir, settings=settings).search.count() == report.chunks


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_lite_server(data: Path, port: int) -> subprocess.Popen:
    """A Milvus Lite server on 127.0.0.1:``port`` keeping its data in ``data``, once it accepts connections."""
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_process(proc)
                raise RuntimeError("the Milvus Lite server did not start") from None
            time.sleep(0.2)


@pytest.fixture(scope="module")
def lite_server(tmp_path_factory):
    """A Milvus Lite server on 127.0.0.1 for this module, stopped at its end."""
    port = _free_port()
    proc = _start_lite_server(tmp_path_factory.mktemp("milvus_server"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def test_milvus_lite_server_finds_and_answers_what_local_does(engine, lite_server, tmp_path):
    settings, report = _milvus_copy(engine, tmp_path, lite_server)
    assert report.embedded == 0
    served = Engine.open(settings, embedder=engine.embedder)
    _same_answers(engine, served)
    # A second process reads the same collection while this one holds it (what a file cannot do).
    code = ("import json; from rag.index.store import open_index; from pathlib import Path; "
            f"from rag.settings import Settings; s = Settings(index_backend='milvus', milvus_uri={lite_server!r}); "
            f"print(json.dumps(open_index(Path({str(settings.index_dir)!r}), settings=s).search.count()))")
    from conftest import python_json

    assert python_json(code) == report.chunks


def test_a_milvus_server_that_stops_answering_is_a_503_and_questions_are_answered_when_it_is_back(engine, tmp_path):
    from serve import running_server

    from api.app import create_app

    port, data = _free_port(), tmp_path / "milvus_data"
    proc = _start_lite_server(data, port)
    try:
        settings, _ = _milvus_copy(engine, tmp_path, f"http://127.0.0.1:{port}", prefix="rag_down")
        settings = settings.model_copy(update={"milvus_timeout": 3.0})
        served = Engine.open(settings, embedder=engine.embedder)
        question = {"question": QUESTIONS[0], "mode": "retrieval"}
        with running_server(create_app(settings, engine=served)) as url, httpx.Client(base_url=url, timeout=60) as c:
            before = c.post("/api/ask", json=question)
            assert before.status_code == 200 and before.json()["citations"]
            stop_process(proc)
            down = c.post("/api/ask", json=question)
            assert down.status_code == 503, down.text
            assert down.json()["error"] == {"code": "index_unavailable", "message": "索引服务暂时无法访问，请稍后再试。"}
            with pytest.raises(IndexUnavailableError, match=f"127.0.0.1:{port}"):
                served.search(QUESTIONS[1])
            proc = _start_lite_server(data, port)  # the same data: the collection is still there
            deadline = time.monotonic() + 60
            while (again := c.post("/api/ask", json=question)).status_code == 503 and time.monotonic() < deadline:
                time.sleep(0.5)  # pymilvus reconnects on its own
            assert again.status_code == 200 and again.json()["answer"] == before.json()["answer"]
            # A server that hangs (paused: it accepts nothing and answers nothing) is a 503 after
            # RAG_MILVUS_TIMEOUT, not a request that waits for ever; answered again once it resumes.
            proc.send_signal(signal.SIGSTOP)
            try:
                started = time.monotonic()
                hung = c.post("/api/ask", json={**question, "question": QUESTIONS[2]})
                assert hung.status_code == 503 and hung.json()["error"]["code"] == "index_unavailable", hung.text
                assert time.monotonic() - started < 30
            finally:
                proc.send_signal(signal.SIGCONT)
            resumed = c.post("/api/ask", json={**question, "question": QUESTIONS[2]})
            assert resumed.status_code == 200 and resumed.json()["citations"]
    finally:
        stop_process(proc)


@pytest.mark.milvus
def test_a_real_milvus_server(engine, tmp_path):
    """Runs against the Milvus that RAG_MILVUS_URI names (http://host:19530, RAG_MILVUS_TOKEN)."""
    uri = os.environ.get("RAG_MILVUS_URI", "")
    if not uri.startswith(("http://", "https://")):
        pytest.skip("RAG_MILVUS_URI does not point at a Milvus server (set it to http://host:19530 to run this)")
    prefix = f"rag_ci_{uuid.uuid4().hex[:8]}"
    shutil.copytree(engine.settings.index_dir, tmp_path / "index")
    settings = make_settings(tmp_path / "index", index_backend="milvus", milvus_uri=uri, milvus_collection=prefix,
                             milvus_token=os.environ.get("RAG_MILVUS_TOKEN") or None)
    try:
        run_ingest([CORPUS], settings, progress=False, embedder=engine.embedder)
        _same_answers(engine, Engine.open(settings, embedder=engine.embedder))
    finally:
        client = connect(uri, os.environ.get("RAG_MILVUS_TOKEN") or None)
        for name in client.list_collections():
            if name.startswith(prefix):
                client.drop_collection(name)


def test_an_ingest_drops_only_its_own_collections_not_those_of_a_longer_prefix():
    """'docs' and 'docs_video' are two indexes: pruning one must not drop the other's versions
    (a stand-in client that only lists and records drops; no server needed)."""
    from rag.index.milvus import collection_name, drop_unused

    class ListingClient:
        def __init__(self, names):
            self.names, self.dropped = names, []

        def list_collections(self):
            return list(self.names)

        def drop_collection(self, name):
            self.dropped.append(name)

    kept = collection_name("docs", "v20261202-091600-abc123")
    pruned = collection_name("docs", "v20261201-091600-abc999")
    neighbour = collection_name("docs_video", "v20261202-091600-def456")
    client = ListingClient([kept, pruned, neighbour, "unrelated"])
    assert drop_unused(client, "docs", {kept}) == [pruned]
    assert client.dropped == [pruned]


def test_the_version_served_until_an_ingest_keeps_its_collection_one_ingest_longer(engine, tmp_path):
    """With one version kept on disk, the collection of the version servers were on until this
    ingest is not dropped with its folder: they search it until they follow CURRENT."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings, _ = _milvus_copy(engine, tmp_path, str(tmp_path / "milvus.db"), prefix="rag_keep")
    settings = settings.model_copy(update={"corpus_dir": corpus, "keep_versions": 1})
    served = open_index(settings.index_dir, settings=settings)
    sorted(corpus.iterdir())[0].unlink()
    run_ingest([corpus], settings, progress=False, embedder=engine.embedder)
    assert open_index(settings.index_dir, settings=settings).version != served.version
    assert served.search.count() == len(served.chunks)  # still searchable
