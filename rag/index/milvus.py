"""The Milvus backend: one collection per index version (dense vectors, jieba BM25, bigram BM25).

Dense search is inner product over the stored vectors; the jieba side is Milvus' own BM25
(a ``Function`` of type BM25 over the passage text with the jieba analyzer, the domain terms and
our stopwords); the CJK-bigram side is BM25 computed here as sparse vectors (document: the term
frequency part, query: the IDFs), because Milvus' standard tokenizer splits Chinese into single
characters and Milvus Lite has no whitespace tokenizer. The bigram statistics are a file of the
version (``bigram_df.json``), which also gives the coverage and the reader their IDFs.

A new version writes a new collection; the version directory's manifest names it, so switching
CURRENT switches collections atomically and a build that dies leaves the previous one serving
(its collection is dropped by the next ingest).
"""

from __future__ import annotations

import json
import logging
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np

from rag.errors import IndexCorruptError, IndexUnavailableError
from rag.index.base import EMPTY, Ranked
from rag.text import DOMAIN_TERMS, STOPWORDS, cjk_bigrams

log = logging.getLogger(__name__)
T = TypeVar("T")
# What a server says of a collection it has not loaded (after a restart: "... is in state 'released'").
_NOT_LOADED = re.compile(r"released|not loaded", re.IGNORECASE)
COLLECTION_NOT_FOUND = 100  # Milvus' error code for a collection it does not have
STATS_FILE = "bigram_df.json"
# bm25s' defaults (method "lucene"), so that both backends rank alike.
K1, B = 1.5, 0.75
# Punctuation jieba returns as words; our own tokenizer drops it (rag.text.words).
PUNCTUATION = list("，。、；：？！“”‘’（）《》〈〉【】「」『』…—－·,.;:?!\"'()[]<>{}/\\|-_=+*&^%$#@~`")
MAX_TEXT = 20000  # characters of a passage stored for BM25 (VARCHAR holds 65,535 bytes)
INSERT_BATCH = 500
# pymilvus pings every 10 s even when idle; a Milvus Lite server answers an idle connection's pings
# with GOAWAY "too_many_pings" (an error logged, a reconnection). Ping only during calls, rarely.
GRPC_OPTIONS = (("grpc.keepalive_time_ms", 300_000), ("grpc.keepalive_permit_without_calls", 0))


def _client(uri: str, token: str | None):
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise ImportError("RAG_INDEX_BACKEND=milvus needs pymilvus: pip install 'rag-zh[milvus]'") from exc
    if uri.endswith(".db"):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return MilvusClient(uri=uri, token=token or "", grpc_options=GRPC_OPTIONS)


def connect(uri: str, token: str | None = None):
    """A MilvusClient for ``uri`` (a ``.db`` path runs Milvus Lite in this process)."""
    return _client(uri, token)


@contextmanager
def _answering(uri: str) -> Iterator[None]:
    """A call to the Milvus server that fails because the server does not answer (down,
    unreachable, past the timeout: pymilvus reports these as MilvusException or bare gRPC errors)
    raises IndexUnavailableError: a 503 for the API, a clear line for the CLI. A collection the
    server does not have is a damaged index; a malformed request stays a bug (not wrapped)."""
    try:
        yield
    except Exception as exc:
        import grpc
        from pymilvus.exceptions import MilvusException, ParamError

        if isinstance(exc, ParamError) or not isinstance(exc, (MilvusException, grpc.RpcError, grpc.FutureTimeoutError)):
            raise
        if isinstance(exc, MilvusException) and exc.code == COLLECTION_NOT_FOUND:
            raise IndexCorruptError(f"Milvus（{uri}）的集合不存在（{exc.message}）。"
                                    "请检查 RAG_MILVUS_URI，或重新运行 `rag ingest` 重建索引。") from exc
        log.warning("Milvus at %s did not answer: %s", uri, exc)
        detail = exc.message if isinstance(exc, MilvusException) else type(exc).__name__
        raise IndexUnavailableError(f"Milvus（{uri}）: {detail}") from exc


def collection_name(prefix: str, version: str) -> str:
    """Collection of an index version: names allow letters, digits and underscores only."""
    return f"{prefix}_{version.replace('-', '_')}"


def token_id(token: str) -> int:
    """Sparse dimension of a bigram (Milvus' own BM25 hashes its tokens to 32 bits too)."""
    return zlib.crc32(token.encode("utf-8")) % 0xFFFFFFFF


class BigramStats:
    """Document frequencies of the bigrams of one version: BM25's IDF and average length."""

    def __init__(self, n: int, avgdl: float, df: dict[str, int]):
        self.n, self.avgdl, self.df = n, avgdl, df

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> BigramStats:
        df: Counter[str] = Counter()
        total = 0
        for t in texts:
            tokens = cjk_bigrams(t) or [""]
            total += len(tokens)
            df.update(set(tokens))
        return cls(len(texts), total / len(texts) if texts else 1.0, dict(df))

    @classmethod
    def load(cls, directory: Path) -> BigramStats:
        d = json.loads((directory / STATS_FILE).read_text(encoding="utf-8"))
        return cls(int(d["n"]), float(d["avgdl"]), d["df"])

    def save(self, directory: Path) -> None:
        (directory / STATS_FILE).write_text(
            json.dumps({"n": self.n, "avgdl": self.avgdl, "df": self.df}, ensure_ascii=False), encoding="utf-8")

    def idf(self, token: str) -> float:
        """Lucene's IDF, as bm25s computes it; unseen tokens get the maximum."""
        df = self.df.get(token, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def document(self, text: str) -> dict[int, float]:
        """The document side of BM25: saturated term frequency with length normalisation."""
        tokens = cjk_bigrams(text) or [""]
        norm = K1 * (1 - B + B * len(tokens) / self.avgdl)
        return {token_id(t): tf / (tf + norm) for t, tf in Counter(tokens).items()}

    def query(self, text: str) -> dict[int, float]:
        """The query side: IDF per known token, repeated tokens counted again (as bm25s does)."""
        out: dict[int, float] = {}
        for t in cjk_bigrams(text):
            if t in self.df:
                out[token_id(t)] = out.get(token_id(t), 0.0) + self.idf(t)
        return out


def _schema(client, dim: int):
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("article_id", DataType.VARCHAR, max_length=512)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params={
        # "_default_" keeps jieba's own dictionary on a Milvus server; the domain terms are added to it.
        "tokenizer": {"type": "jieba", "mode": "search", "dict": ["_default_", *DOMAIN_TERMS]},
        "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOPWORDS) + PUNCTUATION}],
    })
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("words", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("bigrams", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25_words", function_type=FunctionType.BM25,
                                 input_field_names=["text"], output_field_names=["words"]))
    index = client.prepare_index_params()
    # Exact search: Milvus' FLAT index scores every vector, as the local backend's IndexFlatIP does.
    index.add_index("vector", index_type="FLAT", metric_type="IP")
    index.add_index("words", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": K1, "bm25_b": B})
    index.add_index("bigrams", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    return schema, index


class MilvusBuilder:
    """Writes a new version's collection; ``finish`` flushes it and stores the bigram statistics."""

    def __init__(self, client, collection: str, dim: int, lexical: Sequence[str], uri: str):
        self.client, self.collection, self.dim, self.uri = client, collection, dim, uri
        self.stats = BigramStats.from_texts(lexical)
        if client.has_collection(collection):
            client.drop_collection(collection)
        schema, index = _schema(client, dim)
        # Strong consistency: a search right after the build sees every row.
        client.create_collection(collection, schema=schema, consistency_level="Strong")
        # sync=False: waiting for the index asks for a timestamp Milvus Lite does not serve (an error logged);
        # the indexes of an empty collection are built at once, and loading the collection waits for them.
        client.create_index(collection, index, sync=False)
        self._next = 0

    def add(self, start: int, article_ids: Sequence[str], vectors: np.ndarray, lexical: Sequence[str]) -> None:
        if start != self._next:
            raise ValueError(f"rows must be added in order: expected {self._next}, got {start}")
        vectors = np.asarray(vectors, np.float32).reshape(len(lexical), self.dim)
        for i in range(0, len(lexical), INSERT_BATCH):
            rows = [
                {"row": start + j, "article_id": article_ids[j], "text": lexical[j][:MAX_TEXT],
                 "vector": vectors[j].tolist(), "bigrams": self.stats.document(lexical[j])}
                for j in range(i, min(i + INSERT_BATCH, len(lexical)))
            ]
            self.client.insert(self.collection, rows)
        self._next += len(lexical)

    def finish(self, directory: Path) -> dict:
        self.client.flush(self.collection)
        self.client.load_collection(self.collection)
        self.stats.save(directory)
        return {"kind": "milvus", "collection": self.collection, "uri": self.uri}

    def abort(self) -> None:
        try:
            self.client.drop_collection(self.collection)
        except Exception as exc:  # the next ingest drops it anyway (drop_unused)
            log.warning("could not drop the unfinished Milvus collection %s: %s", self.collection, exc)


class MilvusSearch:
    """Searches one version's collection; safe to share between threads (the client is)."""

    kind = "milvus"

    def __init__(self, client, collection: str, stats: BigramStats, uri: str = "", timeout: float | None = None):
        self.client, self.collection, self.stats, self.uri = client, collection, stats, uri
        self.timeout = timeout  # seconds per call (None: pymilvus' own, which may wait for a hung server)

    @classmethod
    def open(cls, directory: Path, backend: dict, uri: str, token: str | None = None,
             timeout: float | None = None) -> MilvusSearch:
        collection = backend["collection"]
        client = connect(uri, token)
        with _answering(uri):
            if not client.has_collection(collection, timeout=timeout):
                raise IndexCorruptError(
                    f"索引版本 {directory.name} 的 Milvus 集合 {collection} 不存在（{uri}）。"
                    "请检查 RAG_MILVUS_URI，或重新运行 `rag ingest` 重建索引。")
            client.load_collection(collection, timeout=timeout)
        return cls(client, collection, BigramStats.load(directory), uri, timeout)

    def _call(self, method: Callable[..., T], **kwargs) -> T:
        """``method(collection, **kwargs)`` of the client, with the timeout; a collection a restarted
        server has not loaded yet is loaded and the call made once more."""
        from pymilvus.exceptions import MilvusException

        with _answering(self.uri):
            try:
                return method(self.collection, timeout=self.timeout, **kwargs)
            except MilvusException as exc:
                if not _NOT_LOADED.search(str(exc)):
                    raise
                log.info("Milvus collection %s is not loaded (a restarted server?): loading it", self.collection)
                self.client.load_collection(self.collection, timeout=self.timeout)
                return method(self.collection, timeout=self.timeout, **kwargs)

    def count(self) -> int:
        # A count query sees deletions at once (collection statistics may lag behind them).
        return int(self._call(self.client.query, filter="", output_fields=["count(*)"])[0]["count(*)"])

    def _search(self, data, field: str, metric: str, k: int, positive: bool = True) -> Ranked:
        result = self._call(self.client.search, data=[data], anns_field=field, limit=max(1, k), output_fields=["row"],
                            search_params={"metric_type": metric})
        hits = result[0] if result else []
        if not hits:
            return EMPTY
        rows = np.array([h["entity"]["row"] for h in hits], np.int64)
        # BM25 scores are positive; Milvus Lite reports them negated (as a distance).
        scores = np.array([abs(h["distance"]) if metric == "BM25" else h["distance"] for h in hits], np.float32)
        if not positive:
            return Ranked(rows, scores)
        keep = scores > 0
        return Ranked(rows[keep], scores[keep])

    def dense(self, vector: np.ndarray, k: int) -> Ranked:
        return self._search(np.asarray(vector, np.float32).reshape(-1).tolist(), "vector", "IP", k, positive=False)

    def lexical(self, field: str, text: str, k: int) -> Ranked:
        if field == "words":
            return self._search(text, "words", "BM25", k)
        query = self.stats.query(text)
        return self._search(query, "bigrams", "IP", k) if query else EMPTY

    def idf(self, token: str) -> float:
        return self.stats.idf(token)

    def delete_article(self, article_id: str) -> int:
        escaped = article_id.replace("\\", "\\\\").replace('"', '\\"')
        expr = f'article_id == "{escaped}"'
        # Counted first: what delete returns differs between Milvus (a count) and Milvus Lite (the keys).
        found = int(self._call(self.client.query, filter=expr, output_fields=["count(*)"])[0]["count(*)"])
        self._call(self.client.delete, filter=expr)
        return found

    def vectors(self, rows: int) -> dict[int, np.ndarray]:
        """The stored vectors of rows ``0 .. rows - 1`` (ingest reuses them for passages that did not change)."""
        out: dict[int, np.ndarray] = {}
        # Pages of row ranges (query_iterator asks Milvus Lite for a timestamp it does not serve).
        for start in range(0, rows, 1000):
            for r in self.client.query(self.collection, filter=f"row >= {start} and row < {start + 1000}",
                                       output_fields=["row", "vector"]):
                out[int(r["row"])] = np.asarray(r["vector"], np.float32)
        return out


def drop_unused(client, prefix: str, keep: set[str]) -> list[str]:
    """Drop this index's collections that no kept version names (pruned or unfinished builds)."""
    # A version's whole name (collection_name of "v20261202-091600-def456"): another index whose
    # prefix extends this one ("docs_video" beside "docs") is not ours.
    ours = re.compile(rf"{re.escape(prefix)}_v\d{{8}}_\d{{6}}_[0-9a-f]{{6}}")
    dropped = []
    for name in client.list_collections():
        if ours.fullmatch(name) and name not in keep:
            client.drop_collection(name)
            dropped.append(name)
    return dropped
