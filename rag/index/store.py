"""Versioned index directory: build into a new version, switch the CURRENT pointer atomically."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from rag.calibrate import Manifest, ModelFit
from rag.errors import IndexCorruptError, IndexNotFoundError
from rag.index.backend import open_search
from rag.index.base import IndexBuilder, SearchIndex
from rag.index.dense import DenseIndex
from rag.index.docstore import ArticleTable, ChunkTable, DocumentStore, StoreWriter
from rag.index.lexical import LexicalIndex
from rag.index.local import LocalSearch
from rag.index.sentences import SentenceVectors
from rag.settings import Settings
from rag.types import Article, ArticleMeta, Chunk

log = logging.getLogger(__name__)
POINTER = "CURRENT"
VERSIONS = "versions"
# 2: the documents in one SQLite file (docs.sqlite) instead of articles.jsonl and chunks.jsonl.
FORMAT = 2


@dataclass
class LoadedIndex:
    """One index version, opened read-only: its documents are read from the store when asked for,
    its search structures are memory-mapped (local) or remote (Milvus)."""

    version: str
    path: Path
    manifest: Manifest
    store: DocumentStore
    search: SearchIndex  # dense and lexical search on the version's backend (rag.index.base)
    sentences: SentenceVectors | None = None  # the reader's sentence vectors (None: built before them)

    @property
    def chunks(self) -> ChunkTable:
        """The chunks by row (``index.chunks[r]``, ``len``, iteration)."""
        return ChunkTable(self.store)

    @property
    def articles(self) -> ArticleTable:
        """The articles by id, each read with its text when asked for."""
        return ArticleTable(self.store)

    def article_meta(self, article_id: str) -> ArticleMeta:
        return self.store.meta(article_id)

    @property
    def fit(self) -> ModelFit:
        return self.manifest.model_fit

    def bigram_idf(self, token: str) -> float:
        """IDF of a CJK bigram in this version (question coverage, the reader's weights)."""
        return self.search.idf(token)

    # The local backend's structures (tests and benchmarks look at them directly).
    @property
    def dense(self) -> DenseIndex:
        return self._local().dense_index

    @property
    def words(self) -> LexicalIndex:
        return self._local().lexical_indexes["words"]

    @property
    def bigrams(self) -> LexicalIndex:
        return self._local().lexical_indexes["bigrams"]

    def _local(self) -> LocalSearch:
        if not isinstance(self.search, LocalSearch):
            raise AttributeError(f"index version {self.version} is on the {self.search.kind} backend")
        return self.search


def current_version(index_dir: Path) -> Path:
    """Directory of the version CURRENT points to; IndexNotFoundError when there is none."""
    pointer = index_dir / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"{Path(index_dir).resolve()} 下没有索引：请先运行 `rag ingest`，"
            "或用 RAG_INDEX_DIR / --index 指向已有的索引（相对路径以当前目录为准）。"
        ) from None
    path = index_dir / VERSIONS / name
    if not (path / "manifest.json").is_file():
        raise IndexNotFoundError(f"索引指针 {pointer} 指向的版本 {name!r} 不存在。")
    return path


def read_manifest(index_dir: Path) -> Manifest | None:
    """Manifest of the current version, or None when there is no index yet.

    An unreadable manifest (truncated or corrupt JSON) also counts as no index: the caller then
    rebuilds from scratch instead of crashing on the damaged version.
    """
    try:
        path = current_version(index_dir) / "manifest.json"
    except IndexNotFoundError:
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        log.warning("ignoring unreadable index manifest %s: %s", path, exc)
        return None
    try:
        return Manifest.from_dict(manifest) if isinstance(manifest, dict) else None
    except TypeError as exc:  # a field of the wrong shape: as unreadable
        log.warning("ignoring unreadable index manifest %s: %s", path, exc)
        return None


def file_checksums(path: Path) -> dict[str, dict]:
    """Size and SHA-256 of every file under a version directory (BM25 folders too) except its manifest."""
    files = {}
    for p in sorted(path.rglob("*")):
        name = p.relative_to(path).as_posix()
        if p.is_file() and name != "manifest.json":
            digest = hashlib.sha256()
            with p.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            files[name] = {"size": p.stat().st_size, "sha256": digest.hexdigest()}
    return files


def damage(path: Path, manifest: Manifest | dict) -> str | None:
    """What is wrong with the files of a version (None when they are as the manifest recorded).

    A version written before checksums were recorded cannot be verified and counts as damaged,
    so the next ingest rebuilds it once.
    """
    recorded = manifest.files if isinstance(manifest, Manifest) else manifest.get("files")
    if not isinstance(recorded, dict) or not recorded:
        return "清单中没有文件校验和（旧格式的索引）"
    try:
        actual = file_checksums(path)
    except OSError as exc:
        return f"无法读取索引文件：{exc.strerror or exc}"
    for name, expected in recorded.items():
        found = actual.get(name)
        if found is None:
            return f"缺少文件 {name}"
        if found["size"] != expected.get("size"):
            return f"文件 {name} 大小不符（应为 {expected.get('size')} 字节，实际 {found['size']} 字节）"
        if found["sha256"] != expected.get("sha256"):
            return f"文件 {name} 校验和不符"
    return None


def _corrupt(path: Path, problem: str) -> IndexCorruptError:
    return IndexCorruptError(f"索引版本 {path.name} 已损坏：{problem}。请重新运行 `rag ingest` 重建索引。")


def open_index(index_dir: Path, attempts: int = 3, settings: Settings | None = None) -> LoadedIndex:
    """Load the current version (document store, and its search structures: FAISS and both BM25
    indexes, or a connection to its Milvus collection with ``settings``' URI and token).

    An ingest may switch CURRENT and prune the version being read in the meantime (with
    RAG_KEEP_VERSIONS=1): the load then starts over on the new version.
    """
    for attempt in range(attempts):
        path = current_version(index_dir)
        try:
            return _load_version(path, settings)
        except (OSError, RuntimeError, IndexCorruptError) as exc:  # RuntimeError: faiss, a file removed midway
            if attempt == attempts - 1 or current_version(index_dir) == path:
                if isinstance(exc, IndexCorruptError):
                    raise
                if isinstance(exc, RuntimeError | FileNotFoundError):
                    # The version is still current: a file is missing or unreadable to FAISS.
                    raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc
                raise  # e.g. PermissionError: the folder, not the index, needs fixing
            log.info("index version %s was replaced while loading; loading the new one", path.name)
    raise AssertionError("unreachable")


def _load_version(path: Path, settings: Settings | None = None) -> LoadedIndex:
    """Verify a version's files against its manifest, then load them; IndexCorruptError when damaged."""
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _corrupt(path, f"清单 manifest.json 无法解析（{exc}）") from exc
    if not isinstance(manifest, dict):
        raise _corrupt(path, "清单 manifest.json 不是 JSON 对象")
    # Versions written before checksums existed are loaded as they are (and rebuilt by the next ingest).
    problem = damage(path, manifest) if "files" in manifest else None
    if problem:
        raise _corrupt(path, problem)
    try:
        return _read_version(path, Manifest.from_dict(manifest), settings)
    except (ValueError, KeyError, TypeError) as exc:  # JSON, a missing field, a bad BM25/FAISS file
        raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc


def _read_version(path: Path, manifest: Manifest, settings: Settings | None = None) -> LoadedIndex:
    if manifest.format < FORMAT:
        raise IndexCorruptError(f"索引版本 {path.name} 是旧格式（格式 {manifest.format}，当前为 {FORMAT}）。"
                                "请重新运行 `rag ingest` 升级索引（已有的向量会被复用，不必重新嵌入）。")
    try:
        store = DocumentStore(path)
    except sqlite3.DatabaseError as exc:  # checksums match but the file is not a store (written by hand)
        raise _corrupt(path, f"文档库 {exc}") from exc
    # The manifest's per-chunk hashes are for the next ingest, not for serving: not kept per worker.
    manifest = replace(manifest, embed_hashes=[])
    return LoadedIndex(
        version=path.name,
        path=path,
        manifest=manifest,
        store=store,
        search=open_search(path, manifest, store.rows_of, settings),
        sentences=SentenceVectors.load(path),
    )


@contextlib.contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index directory (readers never block)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class VersionWriter:
    """Writes a new version into a temporary directory; ``commit`` publishes it atomically.

    Until ``commit`` the CURRENT pointer is untouched, so a crash or Ctrl-C at any point leaves
    the previous version serving; leftovers of interrupted builds are removed on the next run.
    """

    def __init__(self, index_dir: Path, keep_versions: int = 2):
        self.index_dir = index_dir
        self.keep = keep_versions
        self.name = time.strftime("v%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        root = index_dir / VERSIONS
        root.mkdir(parents=True, exist_ok=True)
        for stale in root.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        self.tmp = root / f".tmp-{self.name}"
        self.tmp.mkdir()
        self.published = False  # CURRENT names this version (set by commit)
        self._store: StoreWriter | None = None

    def documents(self) -> StoreWriter:
        """The version's document store, to be written row by row before ``write`` (which closes it)."""
        if self._store is None:
            self._store = StoreWriter(self.tmp)
        return self._store

    def write(self, articles: Iterable[Article], chunks: Iterable[Chunk], builder: IndexBuilder, manifest: Manifest,
              sentences: SentenceVectors | None = None) -> Manifest:
        """Add ``articles`` and ``chunks`` to the document store (after any rows added through
        ``documents()``), finish the search structures, then the manifest with every file's checksum."""
        store = self.documents()
        store.add_articles(articles)
        store.add_chunks(chunks)
        store.close()
        self._store = None
        backend = builder.finish(self.tmp)
        if sentences is not None:
            sentences.save(self.tmp)
        # Recorded so that ingest and the server can tell a damaged version from a good one.
        manifest = replace(manifest, format=FORMAT, version=self.name, backend=backend,
                           files=file_checksums(self.tmp))
        (self.tmp / "manifest.json").write_text(json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2),
                                                "utf-8")
        return manifest

    def commit(self) -> Path:
        """Rename the finished build into place and switch CURRENT to it (atomic rename), then
        remove the versions beyond ``keep_versions``. ``published`` is true from the switch on."""
        final = self.index_dir / VERSIONS / self.name
        _fsync_tree(self.tmp)
        os.replace(self.tmp, final)
        pointer_tmp = self.index_dir / f".{POINTER}.{self.name}"
        with open(pointer_tmp, "w", encoding="utf-8") as fh:
            fh.write(self.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer_tmp, self.index_dir / POINTER)
        self.published = True
        try:
            self._prune(final)
        except KeyboardInterrupt:  # a second Ctrl-C during clean-up: the new version already serves
            log.warning("interrupted while removing old versions; %s is serving, the next ingest prunes", self.name)
        return final

    def abort(self) -> None:
        if self._store is not None:
            self._store.abort()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _prune(self, current: Path) -> None:
        # Oldest first by when they were written: two versions built within one second differ in
        # name only by a random suffix.
        versions = sorted((p for p in (self.index_dir / VERSIONS).iterdir() if not p.name.startswith(".")),
                          key=lambda p: (p.stat().st_mtime_ns, p.name))
        for old in versions[: -self.keep]:
            if old != current:
                shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())


def version_manifests(index_dir: Path) -> list[Manifest]:
    """The readable manifests of every version kept on disk (unfinished builds excluded)."""
    out = []
    root = index_dir / VERSIONS
    for p in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            if not p.name.startswith("."):
                out.append(Manifest.from_dict(json.loads((p / "manifest.json").read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue
    return out
