"""Serving figures per runtime in one run: encoder floor, ask p50/p95 at c=1, req/s at c=8, ready time, RSS.

    .venv/bin/python bench/serving.py --index var/index                    # runtimes auto and engine, 3 rounds
    .venv/bin/python bench/serving.py --index var/index --runtime auto --rounds 1 --requests 100

- **encoder floor**: median ``embed_query`` of distinct questions in this process (one thread),
  per runtime: what an answer cannot go below.
- Then per round and runtime (alternated, so the machine's load falls on all alike) a
  ``rag serve`` (one worker, retrieval mode, query cache off, no rate limit) is spawned:
  **ready** = seconds to the first ``/readyz`` 200; the bench then waits until
  ``/api/admin/stats`` reports the final runtime (torch loads in the background) and measures
  ``POST /api/ask`` with distinct questions (the questions of bench/heldout*.jsonl and
  ../shared/eval/dev.jsonl, each numbered so none repeats) at c=1 (p50, p95) and c=8 (req/s,
  errors); **RSS** is read after the load.
Medians over rounds are printed; ``--json FILE`` writes every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_api import free_port, serve_tree, stop_server, wait_ready  # noqa: E402
from soak import rss_mib  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-admin"


def questions() -> list[str]:
    files = [ROOT / "bench" / "heldout.jsonl", ROOT / "bench" / "heldout2.jsonl", ROOT.parent / "shared" / "eval" / "dev.jsonl"]
    out = []
    for f in files:
        if f.is_file():
            out += [json.loads(line)["question"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def distinct(n: int, offset: int) -> list[str]:
    """``n`` questions that differ from each other and from other calls (a number is appended)."""
    base = questions()
    return [f"{base[i % len(base)]}（{offset + i}）" for i in range(n)]


def encoder_floor(runtime: str, n: int = 100) -> float:
    from rag.embedder import load_embedder
    from rag.settings import Settings

    embedder = load_embedder(Settings(e5_runtime=runtime))
    qs = distinct(n + 10, 900_000)
    for q in qs[:10]:
        embedder.embed_query(q)
    times = []
    for q in qs[10:]:
        t0 = time.perf_counter()
        embedder.embed_query(q)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


async def load(url: str, concurrency: int, qs: list[str]) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(qs))
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=concurrency)) as c:

        async def worker() -> None:
            nonlocal errors
            while queue:
                q = queue.pop()
                t0 = time.perf_counter()
                try:
                    r = await c.post("/api/ask", json={"question": q, "mode": "retrieval"})
                    errors += r.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return latencies, wall, errors


def one_server(root: Path, index: Path, runtime: str, requests: int, offset: int) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = serve_tree(root, index, port, "bench_serving", RAG_E5_RUNTIME=runtime, RAG_QUESTION_LOG="false",
                         RAG_QUERY_CACHE_SIZE="0", RAG_RATE_LIMIT_PER_MINUTE="0", RAG_MODE="retrieval",
                         RAG_API_KEYS="", RAG_ADMIN_TOKEN=TOKEN)
    try:
        ready = wait_ready(url, process, started)
        # Wait for the final runtime (torch loads in the background after ready).
        for _ in range(600):
            stats = httpx.get(url + "/api/admin/stats", headers={"Authorization": f"Bearer {TOKEN}"}).json()["stats"]
            if runtime == "engine" or stats["embed_runtime"] != "engine":
                break
            time.sleep(0.1)
        asyncio.run(load(url, 1, distinct(10, offset)))  # warm-up
        lat1, _, err1 = asyncio.run(load(url, 1, distinct(requests, offset + 10)))
        _, wall8, err8 = asyncio.run(load(url, 8, distinct(requests, offset + 10 + requests)))
        ordered = sorted(lat1)
        return {"root": str(root), "runtime": runtime, "served_by": stats["embed_runtime"], "ready_s": ready,
                "p50_ms": statistics.median(ordered) * 1000,
                "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
                "rps_c8": requests / wall8, "errors": err1 + err8, "rss_mib": rss_mib(process.pid)}
    finally:
        stop_server(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index directory (rag ingest)")
    parser.add_argument("--runtime", nargs="+", default=["auto", "engine"], choices=["auto", "engine"])
    parser.add_argument("--root", type=Path, nargs="+", default=[ROOT],
                        help="source trees to serve (``-m`` runs the working directory's code), alternated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200, help="questions per load level")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    floors = {runtime: encoder_floor(runtime) for runtime in args.runtime}
    runs: list[dict] = []
    offset = 0
    for _ in range(args.rounds):
        for root in args.root:
            for runtime in args.runtime:
                runs.append(one_server(root.resolve(), args.index.resolve(), runtime, args.requests, offset))
                offset += 10 + 2 * args.requests
                print(json.dumps(runs[-1]), flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print("| root | runtime | served by | encoder floor ms | ask p50 ms c=1 | p95 ms c=1 | req/s c=8 | errors | ready s | RSS MiB |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for root, runtime in ((root, runtime) for root in args.root for runtime in args.runtime):
        mine = [r for r in runs if r["runtime"] == runtime and r["root"] == str(root.resolve())]

        def med(key: str, mine=mine) -> float:
            return statistics.median(r[key] for r in mine)

        print(f"| {root} | {runtime} | {mine[-1]['served_by']} | {floors[runtime]:.1f} | {med('p50_ms'):.1f} | {med('p95_ms'):.1f} "
              f"| {med('rps_c8'):.0f} | {sum(r['errors'] for r in mine)} | {med('ready_s'):.2f} | {med('rss_mib'):.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"floors_ms": floors, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
