"""Memory under a burst: N concurrent long questions to ``POST /api/chat``, then RSS while it settles.

    .venv/bin/python bench/memory_burst.py --index var/index                 # 50 clients, 1000 chars, top_k 50
    .venv/bin/python bench/memory_burst.py --index var/index --root /tmp/base . --runs 3   # before/after

Each run starts ``rag serve`` (one worker, retrieval mode, no rate limit) from a source tree
(``--root``, default this checkout: give an older checkout to compare, runs alternate between
them), sends a few warm-up questions, reads the resting RSS, sends ``--clients`` distinct questions
of ``--chars`` characters at once (``top_k`` ``--top-k``), samples RSS every 0.1 s during the burst
(peak), then every 5 s for ``--settle`` seconds. The questions are slices of data/articles, so
every one is different (no cache hit). Prints one row per run and the medians per root.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_api import free_port, serve_tree, stop_server, wait_ready  # noqa: E402
from soak import rss_mib  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Burst:
    """RSS (MiB) of one run: at rest, peak during the burst, right after it, after settling."""

    root: str
    rest: float
    peak: float
    after: float
    settled: float
    errors: int
    burst_s: float

    @property
    def rise(self) -> float:
        return self.peak - self.rest


def long_questions(count: int, chars: int, seed: int) -> list[str]:
    """``count`` distinct slices of ``chars`` characters from the sample articles."""
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "data" / "articles").glob("*")))
    text = " ".join(text.split())
    step = max(1, (len(text) - chars) // max(count, 1))
    return [text[(seed * 37 + i * step) % (len(text) - chars):][:chars] + "？" for i in range(count)]


async def burst(url: str, pid: int, questions: list[str], top_k: int, settle: float) -> tuple[float, float, float, int, float]:
    peak = rss_mib(pid)
    done = False

    async def sample() -> None:
        nonlocal peak
        while not done:
            peak = max(peak, rss_mib(pid))
            await asyncio.sleep(0.1)

    async def one(client: httpx.AsyncClient, question: str) -> bool:
        body = {"messages": [{"role": "user", "content": question}], "top_k": top_k, "mode": "retrieval"}
        try:
            response = await client.post("/api/chat", json=body)
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    limits = httpx.Limits(max_connections=len(questions))
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        sampler = asyncio.create_task(sample())
        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(client, q) for q in questions))
        took = time.perf_counter() - t0
        done = True
        await sampler
    after = rss_mib(pid)
    deadline = time.perf_counter() + settle
    while time.perf_counter() < deadline:
        await asyncio.sleep(5)
        peak = max(peak, rss_mib(pid))
    return peak, after, rss_mib(pid), results.count(False), took


def one_run(root: Path, index: Path, args: argparse.Namespace, seed: int) -> Burst:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = serve_tree(root, index, port, "memory_burst", RAG_RATE_LIMIT_PER_MINUTE="0", RAG_MODE="retrieval",
                         RAG_API_KEYS="", RAG_QUESTION_LOG="false", RAG_QUERY_CACHE_SIZE="0")
    try:
        wait_ready(url, process, started)
        for q in long_questions(5, args.chars, seed + 1000):
            httpx.post(url + "/api/chat", json={"messages": [{"role": "user", "content": q}], "top_k": args.top_k,
                                                "mode": "retrieval"}, timeout=120)
        time.sleep(2)
        rest = rss_mib(process.pid)
        peak, after, settled, errors, took = asyncio.run(
            burst(url, process.pid, long_questions(args.clients, args.chars, seed), args.top_k, args.settle))
        return Burst(str(root), rest, peak, after, settled, errors, took)
    finally:
        stop_server(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index directory (rag ingest)")
    parser.add_argument("--root", type=Path, nargs="+", default=[ROOT], help="source trees to serve, alternated")
    parser.add_argument("--runs", type=int, default=1, help="runs per root")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--chars", type=int, default=1000)
    parser.add_argument("--top-k", type=int, default=50)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds of RSS samples after the burst")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    index = args.index.resolve()
    results: list[Burst] = []
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print("| root | rest MiB | peak MiB | rise MiB | after burst | after settle | errors | burst s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in range(args.runs):
        for root in args.root:
            b = one_run(root.resolve(), index, args, seed=run)
            results.append(b)
            print(f"| {b.root} | {b.rest:.0f} | {b.peak:.0f} | {b.rise:.0f} | {b.after:.0f} | {b.settled:.0f} "
                  f"| {b.errors} | {b.burst_s:.1f} |", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print("medians per root:")
    for root in args.root:
        mine = [b for b in results if b.root == str(root.resolve())]
        med = {k: statistics.median(getattr(b, k) for b in mine) for k in ("rest", "peak", "rise", "settled")}
        print(f"  {root}: rest {med['rest']:.0f}, peak {med['peak']:.0f}, rise {med['rise']:.0f}, "
              f"settled {med['settled']:.0f} MiB ({len(mine)} runs)")
    if args.json:
        args.json.write_text(json.dumps([asdict(b) for b in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
