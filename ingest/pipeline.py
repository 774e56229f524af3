"""Incremental, atomic index build: load → clean → chunk → embed only what is new → new version."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ingest.chunk import ChunkParams, chunk_article
from ingest.loaders import UNSUPPORTED, SkipFile, iter_files, load_article
from rag.answer.reader import candidates
from rag.calibrate import Manifest, ModelFit, probe_fit
from rag.embedder import Embedder, load_embedder, resolve_backend
from rag.errors import IndexCorruptError, NothingToIngestError
from rag.index.backend import backend_signature, drop_unused_collections, new_builder, open_search
from rag.index.dense import DenseIndex
from rag.index.sentences import KEYS, OLD_KEYS, VECTORS, SentenceVectors, sentence_key
from rag.index.store import (
    FORMAT,
    VersionWriter,
    current_version,
    damage,
    ingest_lock,
    open_index,
    read_manifest,
    version_manifests,
)
from rag.settings import Settings
from rag.types import Article, Chunk

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What an ingest did; ``to_dict`` is the ``rag ingest --json`` shape."""

    articles: int
    chunks: int
    embedded: int
    skipped: list[dict]
    seconds: float
    index: str
    version: str
    unchanged: bool = False
    model_fit: dict = field(default_factory=dict)
    repaired: str | None = None  # what was wrong with the current version this build replaced

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line for people, plus a plain-words warning when the model reads the corpus poorly."""
        state = "索引未变化" if self.unchanged else f"新版本 {self.version}"
        if self.repaired:
            state += f"；原索引已重建：{self.repaired}"
        line = (f"已入库 {self.articles} 篇文章、{self.chunks} 个段落，新嵌入 {self.embedded} 个，"
                f"跳过 {len(self.skipped)} 个文件，用时 {self.seconds:.1f} 秒（{state}）。")
        for s in self.skipped:
            line += f"\n  跳过 {s['path']}：{s['reason']}"
        warning = ModelFit.from_dict(self.model_fit).warning()
        return line + (f"\n{warning}" if warning else "")


def embedder_key(settings: Settings) -> str:
    """Identifies the embedding model without loading it (to decide whether vectors can be reused)."""
    backend = resolve_backend(settings)
    return f"{backend}:{settings.embed_model or 'default'}"


# Changed whenever embed_input/lexical_input or the model-fit measures change, so that an
# unchanged corpus is still rebuilt.
# reader2: a quotation of several sentences is one reader sentence (its vector is stored); stop2:
# hedges (大概, 大约, 大致) left out of the word index; reader3: an editor's lead's sentences are reader
# sentences without their label (编辑导读：), so their vectors are stored; t2s: articles in traditional
# characters are stored in simplified ones (ingest.loaders).
BUILD_FORMAT = "dense=text;lexical=title+text;fit=top5;sentences=reader3;stop2;t2s"


def embed_input(article: Article, chunk: Chunk) -> str:
    """Text given to the embedder: the passage alone.

    Prefixing the title (every passage of an article then shares it) blurred the passages of one
    article together: measured with the dense retriever alone, hit@1 0.70 → 0.95 on dev.jsonl and
    evidence@5 0.67 → 0.77 on bench/heldout.jsonl once it was removed (bench/README.md).
    """
    return chunk.text


def lexical_input(article: Article, chunk: Chunk) -> str:
    """Text given to BM25: the title helps a question that names the article or its subject."""
    return f"{article.meta.title}\n{chunk.text}"


def _hash(*parts: str) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _check(cancel: threading.Event | None) -> None:
    """A safe point: stop here (KeyboardInterrupt) when ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise KeyboardInterrupt("ingest cancelled")


# ``on_progress(percent, stage)`` with stage load, embed, embed_sentences or index (jobs show it to operators).
OnProgress = Callable[[float, str], None]


def run_ingest(paths: Sequence[Path], settings: Settings, *, progress: bool | None = None,
               embedder: Embedder | None = None, cancel: threading.Event | None = None,
               on_progress: OnProgress | None = None) -> IngestReport:
    """Build a new index version from ``paths`` (files or folders) unless nothing changed.

    Raises NothingToIngestError when no file could be ingested. The previous version keeps
    serving until the new one is complete. When ``cancel`` is set (the CLI sets it on Ctrl-C),
    the build stops at the next safe point (between embedding batches, before writing) with
    KeyboardInterrupt and removes its unfinished version: interrupting the embedder's own code
    (the import of torch, a C++ kernel) can abort the process instead. ``on_progress`` receives
    the percent done: reading files up to 10, embedding up to 85, building and writing to 100.
    """
    t0 = time.perf_counter()
    index_dir = settings.index_dir
    params = ChunkParams(settings.chunk_min_chars, settings.chunk_max_chars, settings.chunk_overlap_sentences)
    with ingest_lock(index_dir):
        files, problems = iter_files([Path(p) for p in paths])
        skipped = [{"path": p, "reason": r} for p, r in problems]
        raw: list[tuple[Path, Path, bytes]] = []
        for path, root in files:
            try:
                raw.append((path, root, path.read_bytes()))
            except OSError as exc:
                skipped.append({"path": str(path), "reason": f"无法读取：{exc.strerror or exc}"})
        key = embedder_key(settings)
        # Unsupported files are part of the signature (the skipped list they produce is stored in the
        # manifest); a missing path always forces a fresh report.
        unsupported = sorted(p for p, r in problems if r == UNSUPPORTED)
        missing = [p for p, r in problems if r != UNSUPPORTED]
        signature = _hash(key, BUILD_FORMAT, backend_signature(settings), json.dumps(asdict(params)),
                          *sorted(f"{p.relative_to(r)}={hashlib.sha256(b).hexdigest()}" for p, r, b in raw),
                          *(f"unsupported={p}" for p in unsupported))
        previous = read_manifest(index_dir)
        repaired = None
        if previous is not None:
            # "Nothing changed" holds only when the current version's files are intact too.
            repaired = damage(current_version(index_dir), previous) or _backend_damage(settings, previous)
            if repaired:
                log.warning("the current index version is damaged (%s): rebuilding it", repaired)
        # A version in an older format is rebuilt (reusing its vectors) even when nothing else changed.
        if previous and previous.signature == signature and not missing and not repaired and previous.format == FORMAT:
            return IngestReport(
                articles=previous.counts["articles"], chunks=previous.counts["chunks"], embedded=0,
                skipped=previous.skipped, seconds=time.perf_counter() - t0, index=str(index_dir),
                version=previous.version, unchanged=True, model_fit=previous.model_fit.to_dict(),
            )

        articles: list[Article] = []
        seen_ids: set[str] = set()
        for n, (path, root, _) in enumerate(raw):
            if on_progress is not None:
                on_progress(10.0 * n / len(raw), "load")
            try:
                article = load_article(path, root)
            except SkipFile as exc:
                skipped.append({"path": str(path), "reason": str(exc)})
                continue
            if article.meta.article_id in seen_ids:
                skipped.append({"path": str(path), "reason": f"重复的文章 id {article.meta.article_id}"})
                continue
            seen_ids.add(article.meta.article_id)
            articles.append(article)
        if not articles:
            detail = "；".join(f"{s['path']}：{s['reason']}" for s in skipped[:5])
            raise NothingToIngestError(f"没有可入库的文章。{detail}")

        by_id = {a.meta.article_id: a for a in articles}
        chunks = [c for a in articles for c in chunk_article(a, params)]
        inputs = [embed_input(by_id[c.article_id], c) for c in chunks]
        lexical = [lexical_input(by_id[c.article_id], c) for c in chunks]
        hashes = [_hash(key, t) for t in inputs]

        # The new version's directory exists from here on; CURRENT moves only in commit().
        writer = VersionWriter(index_dir, settings.keep_versions)
        try:
            plan = BuildPlan(settings, key, signature, previous, articles, chunks, inputs, lexical, hashes, skipped,
                             params)
            final, embedded, model_fit = _build(writer, plan, embedder, Feedback(progress, cancel, on_progress))
        except BaseException:
            writer.abort()
            raise
        return IngestReport(
            articles=len(articles), chunks=len(chunks), embedded=embedded, skipped=skipped,
            seconds=time.perf_counter() - t0, index=str(index_dir), version=final.name, model_fit=model_fit.to_dict(),
            repaired=repaired,
        )


@dataclass(frozen=True)
class BuildPlan:
    """What one build is made of: the chunks with their embedding and BM25 inputs, and the version it replaces."""

    settings: Settings
    key: str  # the embedding model (embedder_key)
    signature: str
    previous: Manifest | None
    articles: list[Article]
    chunks: list[Chunk]
    inputs: list[str]  # embed_input of each chunk
    lexical: list[str]  # lexical_input of each chunk
    hashes: list[str]  # content hash of each chunk's embedding input
    skipped: list[dict]
    params: ChunkParams


@dataclass(frozen=True)
class Feedback:
    """How a build reports progress and learns it must stop."""

    progress: bool | None = None  # a progress bar on stderr (None: when it is a terminal)
    cancel: threading.Event | None = None
    on_progress: OnProgress | None = None


# Rows handed to the index builder at once.
ADD_BATCH = 2000


def _build(writer: VersionWriter, plan: BuildPlan, embedder: Embedder | None, fb: Feedback) -> tuple[Path, int, ModelFit]:
    """Embed what is new, build the search structures, write and publish the version."""
    settings, previous, chunks, hashes = plan.settings, plan.previous, plan.chunks, plan.hashes
    reuse, reuse_sentences = _previous_vectors(settings, previous, plan.key)
    # The reader's sentences: each distinct quotable sentence of the passages, embedded once.
    sentence_texts = list(dict.fromkeys(c.text for c in candidates([ch.text for ch in chunks])))
    sentence_todo = [t for t in sentence_texts if sentence_key(t) not in reuse_sentences]
    # Each distinct text is embedded once, however many chunks repeat it.
    first_row: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if h not in reuse:
            first_row.setdefault(h, i)
    todo = list(first_row.values())
    same_model = previous is not None and previous.embedder_key == plan.key
    model_fit = previous.model_fit if previous is not None and same_model else ModelFit()
    # The probe measures this chunk set: any change (new, changed or deleted chunks) invalidates it.
    refit = model_fit.relevance_k is None or previous is None or previous.embed_hashes != hashes
    if todo or refit or sentence_todo:
        embedder = embedder or load_embedder(settings)
        info = embedder.info.to_dict()
    else:
        assert previous is not None  # no refit means a previous version measured this chunk set
        info = previous.embedder
    dim = info["dim"]
    # The passage vectors live in a scratch file beside the versions (the page cache, not this
    # process's memory, holds them); the next ingest removes one a killed build left (.tmp-*).
    scratch = Path(tempfile.mkdtemp(prefix=".tmp-vectors-", dir=settings.index_dir / "versions"))
    try:
        vectors = np.lib.format.open_memmap(scratch / "vectors.npy", "w+", np.float32, (len(chunks), dim))
        for i, h in enumerate(hashes):
            if h in reuse:
                vectors[i] = reuse[h]
        del reuse
        if todo:
            assert embedder is not None
            rows = np.asarray(todo)

            def store(offset: int, batch: np.ndarray) -> None:
                vectors[rows[offset:offset + len(batch)]] = batch

            _embed_batched(embedder, [plan.inputs[i] for i in todo], settings.embed_batch_size, fb, sink=store)
        for i, h in enumerate(hashes):  # a text repeated in several chunks was embedded once
            if first_row.get(h, i) != i:
                vectors[i] = vectors[first_row[h]]
        return _build_from(writer, plan, embedder, fb, vectors, info, model_fit, refit or bool(todo),
                           reuse_sentences, sentence_texts, sentence_todo, len(todo))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _build_from(writer: VersionWriter, plan: BuildPlan, embedder: Embedder | None, fb: Feedback,
                vectors: np.ndarray, info: dict, model_fit: ModelFit, refit: bool,
                reuse_sentences: dict[str, np.ndarray], sentence_texts: list[str], sentence_todo: list[str],
                embedded: int) -> tuple[Path, int, ModelFit]:
    """Probe the model's fit, embed the reader's sentences, stream the rows to the index builder, publish."""
    settings, previous, chunks, hashes = plan.settings, plan.previous, plan.chunks, plan.hashes
    dim = info["dim"]
    if refit:
        assert embedder is not None
        stats = embedder.token_stats(plan.inputs)
        # Calibration is exact search whatever the backend: the probe measures the model, not the index.
        probe = DenseIndex.build(vectors, dim)
        fit = probe_fit(embedder.embed_query, lambda q, k: probe.search(q, k), chunks)
        model_fit = replace(fit, unk_share=None if stats.unk_share is None else round(stats.unk_share, 4),
                            windowed_share=round(stats.windowed_share, 4))
    sentence_vectors = dict(reuse_sentences)
    if sentence_todo:
        assert embedder is not None
        new = _embed_batched(embedder, sentence_todo, settings.embed_batch_size, fb, unit="句子",
                             span=SENTENCES_SPAN, stage="embed_sentences")
        sentence_vectors.update((sentence_key(t), v) for t, v in zip(sentence_todo, new, strict=True))
    sentences = SentenceVectors(
        [sentence_key(t) for t in sentence_texts],
        np.array([sentence_vectors[sentence_key(t)] for t in sentence_texts], np.float32).reshape(len(sentence_texts), dim),
    )
    if fb.on_progress is not None:
        fb.on_progress(85.0, "index")
    builder = new_builder(settings, writer.name, dim, plan.lexical)
    try:
        for i in range(0, len(chunks), ADD_BATCH):
            _check(fb.cancel)
            part = slice(i, i + ADD_BATCH)
            builder.add(i, [c.article_id for c in chunks[part]], vectors[part], plan.lexical[part])
        _check(fb.cancel)
        manifest = Manifest(
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            signature=plan.signature,
            embedder_key=plan.key,
            embedder=info,
            model_fit=model_fit,
            chunking=asdict(plan.params),
            counts={"articles": len(plan.articles), "chunks": len(chunks)},
            embed_hashes=hashes,
            skipped=plan.skipped,
        )
        writer.write(plan.articles, chunks, builder, manifest, sentences)
        final = writer.commit()
    except BaseException:
        if not writer.published:  # once CURRENT names it, its search structures are being served
            builder.abort()
        raise
    try:
        # The version served until now keeps its collection one ingest longer: a server switches to
        # the new one within RAG_INDEX_CHECK_SECONDS, and searches the old one until then.
        kept = version_manifests(settings.index_dir) + ([previous] if previous is not None else [])
        drop_unused_collections(settings, kept)
    except Exception as exc:  # leftovers cost space only; the next ingest tries again
        log.warning("could not drop unused Milvus collections: %s", exc)
    return final, embedded, model_fit


def _previous_vectors(settings: Settings, previous: Manifest | None, key: str
                      ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Passage vectors of the current version keyed by content hash, and its sentence vectors by
    sentence key, when built with the same model (from its FAISS file or its Milvus collection)."""
    if not previous or previous.embedder_key != key:
        return {}, {}
    index_dir = settings.index_dir
    try:
        path = current_version(index_dir)
        recorded = previous.files
        if previous.backend_kind == "milvus":
            from rag.index.milvus import MilvusSearch

            search = open_search(path, previous, None, settings)
            assert isinstance(search, MilvusSearch)
            by_row = search.vectors(len(previous.embed_hashes))
        elif isinstance(recorded, dict):
            # Only the vectors are read: a damaged document or BM25 file costs no re-embedding.
            problem = damage(path, {"files": {"dense.faiss": recorded.get("dense.faiss", {})}})
            if problem:
                raise ValueError(problem)
            by_row = dict(enumerate(DenseIndex.load(path).vectors()))
        else:
            by_row = dict(enumerate(open_index(index_dir).dense.vectors()))
    except Exception as exc:  # a damaged old version only costs re-embedding
        log.warning("cannot reuse vectors of the previous index: %s", exc)
        return {}, {}
    passages = {h: by_row[i] for i, h in enumerate(previous.embed_hashes) if i in by_row}
    return passages, _previous_sentences(path, recorded)


def _backend_damage(settings: Settings, previous: Manifest) -> str | None:
    """What is wrong with the current version's search structures outside its folder (a Milvus
    collection that is gone); None when they are there."""
    if previous.backend_kind != "milvus":
        return None
    try:
        open_search(current_version(settings.index_dir), previous, None, settings)
    except IndexCorruptError as exc:
        return str(exc)
    except Exception as exc:  # cannot connect: the build below reports it
        return f"无法连接 Milvus：{exc}"
    return None


def _previous_sentences(path: Path, recorded: object) -> dict[str, np.ndarray]:
    """The reader's sentence vectors of the current version by key, when their files are intact."""
    try:
        if isinstance(recorded, dict):
            keys = KEYS if KEYS in recorded else OLD_KEYS
            wanted = {name: recorded[name] for name in (VECTORS, keys) if name in recorded}
            if len(wanted) < 2 or damage(path, {"files": wanted}):
                return {}
        stored = SentenceVectors.load(path)
    except Exception as exc:  # a damaged file only costs re-embedding the sentences
        log.warning("cannot reuse sentence vectors of the previous index: %s", exc)
        return {}
    return stored.by_key() if stored is not None else {}


# The share of a build's progress (percent) each embedding takes: the passages, then the reader's
# sentences (several per passage: a large upload spent minutes on them at one figure).
PASSAGES_SPAN = (10.0, 50.0)
SENTENCES_SPAN = (50.0, 85.0)


def _embed_batched(embedder: Embedder, texts: list[str], batch: int, fb: Feedback, unit: str = "段",
                   sink: Callable[[int, np.ndarray], None] | None = None,
                   span: tuple[float, float] = PASSAGES_SPAN, stage: str = "embed") -> np.ndarray:
    """The texts' passage vectors, batch by batch; with ``sink`` each batch goes to it (with the
    position of its first text) instead of into the returned array (then empty). Progress goes
    from ``span[0]`` to ``span[1]`` percent, as ``stage``."""
    show = sys.stderr.isatty() if fb.progress is None else fb.progress
    from tqdm import tqdm

    parts = []
    with tqdm(total=len(texts), desc="嵌入", unit=unit, disable=not show, file=sys.stderr) as bar:
        for i in range(0, len(texts), batch):
            _check(fb.cancel)
            if fb.on_progress is not None:
                fb.on_progress(span[0] + (span[1] - span[0]) * i / len(texts), stage)
            vectors = embedder.embed_passages(texts[i : i + batch])
            if sink is None:
                parts.append(vectors)
            else:
                sink(i, np.asarray(vectors, np.float32))
            bar.update(len(texts[i : i + batch]))
    return np.vstack(parts) if parts else np.zeros((0, 0), np.float32)
