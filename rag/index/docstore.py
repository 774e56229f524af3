"""The document store of a version: articles and chunks in one SQLite file, read row by row.

A version never changes once written, so readers open the file read-only and ``immutable`` (no
locks, no journal) and memory-map it: the workers of ``rag serve --workers N`` share its pages
through the page cache, and a process holds only the rows it has read (a small cache of chunks).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from rag.types import Article, ArticleMeta, Chunk

STORE = "docs.sqlite"
# SQLite caps memory mapping at about 2 GB unless compiled otherwise; past it the rest is read().
MMAP_BYTES = 1 << 31
# Chunks a process keeps decoded (the diversity pass and the reader read the same rows repeatedly).
CHUNK_CACHE = 2048

_SCHEMA = """
CREATE TABLE articles (position INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE, meta TEXT NOT NULL,
                       text TEXT NOT NULL, content_hash TEXT NOT NULL);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, article_id TEXT NOT NULL,
                     ordinal INTEGER NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
                     heading TEXT);
"""
_CHUNK = 'SELECT row, chunk_id, article_id, ordinal, text, start, "end", heading FROM chunks'


def _meta(raw: str) -> ArticleMeta:
    d = json.loads(raw)
    d["categories"] = tuple(d.get("categories") or ())
    return ArticleMeta(**d)


def _chunk(r: tuple) -> Chunk:
    return Chunk(r[1], r[2], r[3], r[4], r[5], r[6], r[7])


class StoreWriter:
    """Writes the store of a new version row by row (batches of rows in one transaction).

    Chunks are numbered in the order they are added: row ``i`` is the search structures' row ``i``.
    """

    BATCH = 2000

    def __init__(self, directory: Path):
        self.path = directory / STORE
        self._db = sqlite3.connect(self.path)
        # A build that dies is thrown away whole (its temporary folder), so no journal is needed.
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self.chunks = 0
        self.articles = 0

    def add_articles(self, articles: Iterable[Article]) -> None:
        rows = ((self.articles + i, a.meta.article_id, json.dumps(a.meta.to_dict(), ensure_ascii=False), a.text,
                 a.content_hash) for i, a in enumerate(articles))
        self.articles += self._insert("INSERT INTO articles VALUES (?, ?, ?, ?, ?)", rows)

    def add_chunks(self, chunks: Iterable[Chunk]) -> None:
        rows = ((self.chunks + i, c.chunk_id, c.article_id, c.ordinal, c.text, c.start, c.end, c.heading)
                for i, c in enumerate(chunks))
        self.chunks += self._insert("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def _insert(self, sql: str, rows: Iterator[tuple]) -> int:
        n = 0
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) == self.BATCH:
                n += self._flush(sql, batch)
        return n + self._flush(sql, batch)

    def _flush(self, sql: str, batch: list[tuple]) -> int:
        with self._db:
            self._db.executemany(sql, batch)
        n = len(batch)
        batch.clear()
        return n

    def close(self) -> None:
        """Index the chunks by article and close the file (it is then final)."""
        with self._db:
            self._db.execute("CREATE INDEX chunks_by_article ON chunks (article_id, row)")
        self._db.close()

    def abort(self) -> None:
        self._db.close()


class DocumentStore:
    """Read access to a version's articles and chunks; one connection per process, opened lazily."""

    def __init__(self, directory: Path):
        self.path = directory / STORE
        if not self.path.is_file():
            raise FileNotFoundError(2, "No such file or directory", str(self.path))
        self._uri = f"file:{quote(str(self.path.resolve()))}?mode=ro&immutable=1"
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._metas: list[ArticleMeta] | None = None
        self.chunk = lru_cache(maxsize=CHUNK_CACHE)(self._read_chunk)
        self.meta = lru_cache(maxsize=CHUNK_CACHE)(self._read_meta)
        self._after = lru_cache(maxsize=CHUNK_CACHE)(self._read_after)
        # Rows are numbered 0..n-1, so the largest is the count (no table scan).
        self.chunk_count = self._one("SELECT COALESCE(MAX(row) + 1, 0) FROM chunks")[0]
        self.article_count = self._one("SELECT COALESCE(MAX(position) + 1, 0) FROM articles")[0]

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            if self._db is None or self._pid != os.getpid():  # a forked process opens its own
                db = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
                db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
                db.execute("PRAGMA cache_size=-1024")  # 1 MB of private cache: the page cache holds the rest
                self._db, self._pid = db, os.getpid()
            return self._db.execute(sql, args).fetchall()

    def _one(self, sql: str, args: tuple = ()) -> tuple:
        rows = self._query(sql, args)
        if not rows:
            raise KeyError(args[0] if args else sql)
        return rows[0]

    def _read_chunk(self, row: int) -> Chunk:
        return _chunk(self._one(_CHUNK + " WHERE row = ?", (row,)))

    def _read_meta(self, article_id: str) -> ArticleMeta:
        """An article's metadata (KeyError when there is no such article)."""
        return _meta(self._one("SELECT meta FROM articles WHERE article_id = ?", (article_id,))[0])

    def chunks_between(self, start: int, stop: int) -> list[Chunk]:
        """Chunks of rows ``start`` to ``stop - 1``, in order (one query)."""
        return [_chunk(r) for r in self._query(_CHUNK + " WHERE row >= ? AND row < ? ORDER BY row", (start, stop))]

    def rows_of(self, article_id: str) -> list[int]:
        """The rows of an article's chunks, in order (by the article index: no scan)."""
        return [r[0] for r in self._query("SELECT row FROM chunks WHERE article_id = ? ORDER BY row", (article_id,))]

    def chunks_of(self, article_id: str) -> tuple[Chunk, ...]:
        return tuple(_chunk(r) for r in self._query(_CHUNK + " WHERE article_id = ? ORDER BY row", (article_id,)))

    def chunk_after(self, chunk: Chunk) -> Chunk | None:
        """The next chunk of ``chunk``'s article, if any (cached: the answer path asks for it)."""
        return self._after(chunk.article_id, chunk.ordinal)

    def _read_after(self, article_id: str, ordinal: int) -> Chunk | None:
        rows = self._query(_CHUNK + " WHERE article_id = ? AND ordinal = ? LIMIT 1", (article_id, ordinal + 1))
        return _chunk(rows[0]) if rows else None

    def first_chunk(self, article_id: str) -> Chunk | None:
        rows = self._query(_CHUNK + " WHERE article_id = ? ORDER BY row LIMIT 1", (article_id,))
        return _chunk(rows[0]) if rows else None

    def last_chunk(self, article_id: str) -> Chunk | None:
        rows = self._query(_CHUNK + " WHERE article_id = ? ORDER BY row DESC LIMIT 1", (article_id,))
        return _chunk(rows[0]) if rows else None

    def article(self, article_id: str) -> Article | None:
        rows = self._query("SELECT meta, text, content_hash FROM articles WHERE article_id = ?", (article_id,))
        return Article(_meta(rows[0][0]), rows[0][1], rows[0][2]) if rows else None

    def has_article(self, article_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM articles WHERE article_id = ?", (article_id,)))

    def article_ids(self) -> list[str]:
        return [r[0] for r in self._query("SELECT article_id FROM articles ORDER BY position")]

    def metas(self) -> list[ArticleMeta]:
        """Every article's metadata in ingest order, read once per process (no texts)."""
        if self._metas is None:
            self._metas = [_meta(r[0]) for r in self._query("SELECT meta FROM articles ORDER BY position")]
        return self._metas

    def catalog(self) -> list[tuple[ArticleMeta, str, int]]:
        """Every article's metadata, content hash and chunk count (the documents page), no texts."""
        counts = dict(self._query("SELECT article_id, COUNT(*) FROM chunks GROUP BY article_id"))
        return [(m, h, counts.get(m.article_id, 0)) for m, h in
                ((_meta(r[0]), r[1]) for r in self._query("SELECT meta, content_hash FROM articles ORDER BY position"))]


class ChunkTable(Sequence[Chunk]):
    """``index.chunks``: the chunks by row, read from the store when asked for."""

    def __init__(self, store: DocumentStore):
        self._store = store

    def __len__(self) -> int:
        return self._store.chunk_count

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._store.chunk(row)

    def __iter__(self) -> Iterator[Chunk]:
        step = 10000
        for start in range(0, len(self), step):
            yield from self._store.chunks_between(start, start + step)


class ArticleTable(Mapping[str, Article]):
    """``index.articles``: the articles by id, each read (text included) when asked for."""

    def __init__(self, store: DocumentStore):
        self._store = store

    def __getitem__(self, article_id: str) -> Article:
        article = self._store.article(article_id)
        if article is None:
            raise KeyError(article_id)
        return article

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._store.has_article(article_id)

    def __len__(self) -> int:
        return self._store.article_count

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.article_ids())
