"""The local backend's large-index path: IVF and BM25 champion lists above RAG_DENSE_EXACT_MAX, memory-mapped
files, a builder that streams rows through scratch files."""

from __future__ import annotations

import shutil

import bm25s
import numpy as np
import pytest
from conftest import CORPUS, make_settings

from ingest.pipeline import run_ingest
from rag.engine import Engine
from rag.index import lexical
from rag.index.dense import DenseIndex, ivf_lists
from rag.index.lexical import TOKENIZERS, LexicalBuilder, LexicalIndex
from rag.index.local import LocalBuilder, LocalSearch
from rag.index.store import current_version, open_index


def test_an_index_above_the_exact_threshold_is_approximate_and_finds_the_same_passages(engine, tmp_path):
    shutil.copytree(engine.settings.index_dir, tmp_path / "index")
    settings = make_settings(tmp_path / "index", dense_exact_max=10)
    report = run_ingest([CORPUS], settings, progress=False, embedder=engine.embedder)
    assert (report.unchanged, report.embedded) == (False, 0)  # the threshold is part of the build; vectors reused
    approximate = Engine.open(settings, embedder=engine.embedder)
    assert approximate.index.dense.approximate and not engine.index.dense.approximate
    assert approximate.index.words.pruned and not engine.index.words.pruned
    for q in ("产业互联网的主战场在哪里？", "消费互联网和产业互联网有什么区别？", "数字化转型的难点是什么？"):
        assert [h.chunk.chunk_id for h in approximate.search(q)] == [h.chunk.chunk_id for h in engine.search(q)]


def test_index_files_are_memory_mapped_and_read_whole_on_request(index_dir):
    version = current_version(index_dir)
    mapped, whole = DenseIndex.load(version), DenseIndex.load(version, mmap=False)
    with open("/proc/self/maps", encoding="utf-8") as fh:
        assert str(version / "dense.faiss") in fh.read()
    assert (mapped.vectors() == whole.vectors()).all()
    bm25 = open_index(index_dir).bigrams._bm25
    # Plain arrays (no numpy.memmap indexing overhead) over the mapped score files.
    assert type(bm25.scores["data"]) is np.ndarray and not bm25.scores["data"].flags.owndata
    with open("/proc/self/maps", encoding="utf-8") as fh:
        assert str(version / "bm25_bigrams" / "data.csc.index.npy") in fh.read()


def _sample_texts() -> list[str]:
    from ingest.loaders import iter_files, load_article
    from rag.text import sentences

    files, _ = iter_files([CORPUS])
    sents = [s for path, root in files for s in sentences(load_article(path, root).text) if len(s) >= 8]
    rng = np.random.default_rng(0)
    # Chunks of 3 sentences, an empty text and a latin-only one (bm25s's edge cases).
    return ["".join(sents[j] for j in rng.choice(len(sents), 3, replace=False)) for _ in range(400)] + ["", "FAISS"]


@pytest.mark.parametrize("field", ["words", "bigrams"])
def test_the_streaming_bm25_builder_scores_exactly_as_bm25s(field):
    """Built batch by batch from spilled postings, the index gives every document bm25s's score, to the bit."""
    texts = _sample_texts()
    reference = bm25s.BM25()
    reference.index([TOKENIZERS[field](t) or [""] for t in texts], show_progress=False)
    builder = LexicalBuilder(field)
    for start in range(0, len(texts), 97):
        builder.add(texts[start:start + 97])
    built = builder.finish()
    builder.abort()
    assert not built.pruned
    for question in ("产业互联网的主战场在哪里？", "数字化转型的难点是什么？", "FAISS 消费互联网"):
        tokens = TOKENIZERS[field](question)
        known = [t for t in tokens if t in reference.vocab_dict]
        assert np.array_equal(built.scores(tokens), reference.get_scores(known))


def test_champion_lists_read_only_a_frequent_terms_best_postings(monkeypatch, tmp_path):
    """Above the exact threshold a term in more than CHAMPIONS documents keeps its best postings only:
    a question on it gets those documents, best first, with their exact scores."""
    monkeypatch.setattr(lexical, "CHAMPIONS", 3)
    monkeypatch.setattr(lexical, "TOP_POSTINGS", 2)
    monkeypatch.setattr(lexical, "EXACT_POSTINGS", 0)  # a corpus this small is otherwise scored exactly
    # 产业 in 6 documents, more often relative to length in the later ones; 灯塔 in one.
    texts = ["产业" * (i + 1) + "的发展需要时间与耐心，也需要很多的资源投入和长期的规划" * (6 - i) for i in range(6)]
    texts += ["灯塔照亮了海面", "与产业无关？不，这里也谈产业和灯塔"]
    index = LexicalIndex.build("words", texts, champions=True)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path, "words")
    assert loaded.pruned
    exact_rows, exact_scores = loaded.top(["产业"], 10, exact=True)
    rows, scores = loaded.top(["产业"], 10)
    assert len(exact_rows) == 7 and rows.tolist() == exact_rows[:2].tolist()  # the 2 best of 7
    assert np.allclose(scores, exact_scores[:2])
    # A rare term is read whole, and a deleted row is left out.
    assert loaded.top(["灯塔"], 10)[0].tolist() == loaded.top(["灯塔"], 10, exact=True)[0].tolist() == [6, 7]
    assert loaded.top(["灯塔"], 10, exclude=[6])[0].tolist() == [7]


def test_the_local_builder_streams_through_scratch_files_it_removes(tmp_path):
    """Rows go to scratch files as they are added (not kept in memory); finish and abort remove them."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = _sample_texts()[:300]
    builder = LocalBuilder(16, approximate_above=100, scratch=tmp_path / "scratch")
    for start in range(0, 300, 128):
        builder.add(start, ["a"] * len(texts[start:start + 128]), vectors[start:start + 128], texts[start:start + 128])
    spilled = {p.name: p.stat().st_size for p in (tmp_path / "scratch").rglob("*") if p.is_file()}
    assert spilled["vectors.f32"] == vectors.nbytes and spilled["rows"] > 0
    (tmp_path / "v").mkdir()
    builder.finish(tmp_path / "v")
    assert not list((tmp_path / "scratch").iterdir())
    search = LocalSearch.load(tmp_path / "v")
    assert search.dense_index.approximate and search.lexical_indexes["words"].pruned
    assert np.array_equal(search.dense_index.vectors(), vectors)  # the next ingest reuses them
    aborted = LocalBuilder(16, scratch=tmp_path / "scratch")
    aborted.add(0, ["a"], vectors[:1], texts[:1])
    aborted.abort()
    assert not list((tmp_path / "scratch").iterdir())


def test_the_ivf_index_is_memory_mapped_and_exact_when_every_list_is_read(tmp_path):
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((20, 32))
    vectors = (centres[rng.integers(0, 20, 3000)] + 0.3 * rng.standard_normal((3000, 32))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    DenseIndex.build(vectors, 32, approximate_above=1000).save(tmp_path)
    ivf = DenseIndex.load(tmp_path)
    with open("/proc/self/maps", encoding="utf-8") as fh:
        assert str(tmp_path / "dense.faiss") in fh.read()
    assert ivf.approximate and ivf._ivf().nlist == ivf_lists(3000) < 3000
    exact = DenseIndex.build(vectors, 32)
    queries = vectors[:20] + 0.1 * rng.standard_normal((20, 32)).astype(np.float32)
    found = [set(ivf.search(q, 10)[1].tolist()) for q in queries]
    truth = [set(exact.search(q, 10)[1].tolist()) for q in queries]
    assert np.mean([len(f & t) / 10 for f, t in zip(found, truth, strict=True)]) >= 0.9
    ivf._ivf().nprobe = ivf._ivf().nlist
    assert [set(ivf.search(q, 10)[1].tolist()) for q in queries] == truth


def test_an_hnsw_index_of_an_earlier_version_is_still_read_with_a_wide_beam(tmp_path):
    """Versions built before IVF hold an HNSW graph above the threshold: they load and search as before."""
    import faiss

    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    graph = faiss.IndexHNSWFlat(32, 16, faiss.METRIC_INNER_PRODUCT)
    graph.add(vectors)
    faiss.write_index(graph, str(tmp_path / "dense.faiss"))
    old = DenseIndex.load(tmp_path)
    assert old.approximate and old._index.hnsw.efSearch == 128
    assert old.search(vectors[7], 5)[1][0] == 7
