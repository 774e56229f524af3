"""The local backend's large-index path: HNSW above RAG_DENSE_EXACT_MAX, memory-mapped files."""

from __future__ import annotations

import shutil

from conftest import CORPUS, make_settings

from ingest.pipeline import run_ingest
from rag.engine import Engine
from rag.index.dense import DenseIndex
from rag.index.store import current_version, open_index


def test_an_index_above_the_exact_threshold_is_hnsw_and_finds_the_same_passages(engine, tmp_path):
    shutil.copytree(engine.settings.index_dir, tmp_path / "index")
    settings = make_settings(tmp_path / "index", dense_exact_max=10)
    report = run_ingest([CORPUS], settings, progress=False, embedder=engine.embedder)
    assert (report.unchanged, report.embedded) == (False, 0)  # the threshold is part of the build; vectors reused
    approximate = Engine.open(settings, embedder=engine.embedder)
    assert approximate.index.dense.approximate and not engine.index.dense.approximate
    for q in ("产业互联网的主战场在哪里？", "消费互联网和产业互联网有什么区别？", "数字化转型的难点是什么？"):
        assert [h.chunk.chunk_id for h in approximate.search(q)] == [h.chunk.chunk_id for h in engine.search(q)]


def test_index_files_are_memory_mapped_and_read_whole_on_request(index_dir):
    version = current_version(index_dir)
    mapped, whole = DenseIndex.load(version), DenseIndex.load(version, mmap=False)
    with open("/proc/self/maps", encoding="utf-8") as fh:
        assert str(version / "dense.faiss") in fh.read()
    assert (mapped.vectors() == whole.vectors()).all()
    bm25 = open_index(index_dir).bigrams._bm25
    assert type(bm25.scores["data"]).__name__ == "memmap"
