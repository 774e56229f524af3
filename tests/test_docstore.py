"""The document store (docs.sqlite): rows and articles read on demand, shared by processes, old formats upgraded."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, ROOT, make_settings, python_json

from ingest.chunk import ChunkParams, chunk_article
from ingest.loaders import iter_files, load_article
from ingest.pipeline import run_ingest
from rag.engine import Engine
from rag.errors import IndexCorruptError
from rag.index.docstore import STORE, DocumentStore
from rag.index.store import FORMAT, current_version, open_index


def _expected(settings) -> tuple[dict, list]:
    """The articles and chunks of the sample corpus, cut again here, in ingest order."""
    params = ChunkParams(settings.chunk_min_chars, settings.chunk_max_chars, settings.chunk_overlap_sentences)
    files, _ = iter_files([CORPUS])
    articles = [load_article(path, root) for path, root in files]
    return {a.meta.article_id: a for a in articles}, [c for a in articles for c in chunk_article(a, params)]


def test_store_returns_each_row_and_each_articles_chunks(engine: Engine):
    index = engine.index
    articles, chunks = _expected(engine.settings)
    assert len(index.chunks) == len(chunks) and len(index.articles) == len(articles) == 5
    assert [index.chunks[r] for r in range(len(chunks))] == chunks == list(index.chunks)
    assert index.chunks[-1] == chunks[-1] and index.chunks[2:4] == chunks[2:4]
    with pytest.raises(IndexError):
        index.chunks[len(chunks)]
    assert list(index.articles) == list(articles)
    for article_id, article in articles.items():
        rows = [r for r, c in enumerate(chunks) if c.article_id == article_id]
        assert index.store.rows_of(article_id) == rows
        assert index.articles[article_id] == article and article_id in index.articles
        assert index.article_meta(article_id) == article.meta
        view = engine.article(article_id)
        assert (view.meta, view.text, view.chunks) == (article.meta, article.text, tuple(chunks[r] for r in rows))
    assert "nope" not in index.articles and index.articles.get("nope") is None
    assert engine.articles() == [a.meta for a in articles.values()]


def test_an_articles_chunks_are_found_by_the_index_not_a_scan(engine: Engine):
    db = sqlite3.connect(f"file:{engine.index.path / STORE}?mode=ro&immutable=1", uri=True)
    plan = " ".join(r[-1] for r in db.execute(
        'EXPLAIN QUERY PLAN SELECT row, chunk_id, article_id, ordinal, text, start, "end", heading '
        "FROM chunks WHERE article_id = ? ORDER BY row", ("x",)))
    assert plan == "SEARCH chunks USING INDEX chunks_by_article (article_id=?)"
    plan = " ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN SELECT * FROM chunks WHERE row = ?", (3,)))
    assert plan == "SEARCH chunks USING INTEGER PRIMARY KEY (rowid=?)"


def test_documents_page_counts_chunks_per_article(engine: Engine, indexed_settings):
    from ingest.documents import Corpus

    _, chunks = _expected(engine.settings)
    docs = Corpus(CORPUS, 1 << 20).documents(engine.index)
    assert {d.article_id: d.chunks for d in docs} == {
        a: sum(c.article_id == a for c in chunks) for a in {c.article_id for c in chunks}}
    assert {d.status for d in docs} == {"indexed"}


def test_an_older_format_says_to_ingest_and_ingest_upgrades_it_without_embedding(index_dir: Path, tmp_path: Path,
                                                                                 engine: Engine):
    directory = tmp_path / "index"
    shutil.copytree(index_dir, directory)
    version = current_version(directory)
    manifest = json.loads((version / "manifest.json").read_text("utf-8"))
    manifest["format"] = FORMAT - 1
    (version / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexCorruptError) as info:
        open_index(directory)
    assert str(info.value) == (f"索引版本 {version.name} 是旧格式（格式 {FORMAT - 1}，当前为 {FORMAT}）。"
                               "请重新运行 `rag ingest` 升级索引（已有的向量会被复用，不必重新嵌入）。")
    report = run_ingest([CORPUS], make_settings(directory), progress=False, embedder=engine.embedder)
    assert (report.unchanged, report.embedded) == (False, 0) and report.version != version.name
    upgraded = open_index(directory)
    assert upgraded.manifest.format == FORMAT and list(upgraded.chunks) == list(engine.index.chunks)


def _read_in_child(index: object, rows: list[int], queue) -> None:
    queue.put([index.chunks[r].chunk_id for r in rows])  # type: ignore[attr-defined]


def test_a_forked_worker_reads_through_its_own_connection(engine: Engine):
    index = open_index(engine.settings.index_dir)
    first = index.chunks[0]  # the parent's connection is open now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_read_in_child, args=(index, [0, 5, len(index.chunks) - 1], queue))
    child.start()
    got = queue.get(timeout=60)
    child.join(60)
    assert got == [first.chunk_id, index.chunks[5].chunk_id, index.chunks[-1].chunk_id]
    assert child.exitcode == 0


TWO_PROCESSES = """
import json, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from rag.index.store import open_index
index = open_index(Path({index!r}))
rows = [index.chunks[r].chunk_id for r in range(len(index.chunks))]
article = index.articles[index.chunks[0].article_id]
maps = [line.split()[-1] for line in open("/proc/self/maps") if line.rstrip().endswith("docs.sqlite")]
print(json.dumps({{"version": index.version, "rows": rows, "title": article.meta.title, "mapped": maps}}))
"""


def test_two_processes_load_the_same_version_and_map_its_store(engine: Engine):
    code = TWO_PROCESSES.format(root=str(ROOT), index=str(engine.settings.index_dir))
    a, b = python_json(code), python_json(code)
    assert a == b
    assert a["version"] == engine.index.version
    assert a["rows"] == [c.chunk_id for c in engine.index.chunks]
    # The store is memory-mapped: its pages are the page cache's, shared by both processes.
    assert a["mapped"] and {Path(m) for m in a["mapped"]} == {(engine.index.path / STORE).resolve()}


def test_a_file_that_is_not_a_store_is_a_damaged_version(tmp_path: Path):
    (tmp_path / STORE).write_bytes(b"not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        DocumentStore(tmp_path)


def test_sentence_vectors_are_found_by_text_in_the_sorted_keys_and_in_an_older_layout(engine: Engine, tmp_path: Path):
    from rag.answer.reader import candidates
    from rag.index.sentences import OLD_KEYS, VECTORS, SentenceVectors, sentence_key

    stored = engine.index.sentences
    assert stored is not None
    texts = list(dict.fromkeys(c.text for c in candidates([ch.text for ch in engine.index.chunks])))
    assert len(stored) == len(texts)
    vectors = np.array([stored.get(t) for t in texts], np.float32)
    assert stored.get("不在索引里的句子。") is None
    # The layout before index format 2: keys as JSON in row order, vectors in that order.
    np.save(tmp_path / VECTORS, vectors.astype(np.float16))
    (tmp_path / OLD_KEYS).write_text(json.dumps([sentence_key(t) for t in texts]), "utf-8")
    old = SentenceVectors.load(tmp_path)
    assert old is not None and len(old) == len(texts)
    assert all(np.array_equal(old.get(t), v) for t, v in zip(texts, vectors, strict=True))
    assert old.by_key().keys() == stored.by_key().keys()
