"""Serving figures per runtime in one run: encoder floor, ask p50/p95 at c=1, req/s at c=8, ready time, RSS.

    .venv/bin/python bench/serving.py --index var/index       # runtimes auto, onnx-int8, torch, engine; 3 rounds
    .venv/bin/python bench/serving.py --index var/index --runtime auto engine --workers 1 2 --rounds 2
    .venv/bin/python bench/serving.py --index var/index --runtime auto --solo-threads 1 2 --client raw
    .venv/bin/python bench/serving.py --index var/index --root /tmp/before . --runtime auto --client raw --interleave --rounds 20

- **encoder floor**: median ``embed_query`` of distinct questions in this process (one thread),
  per runtime, the runtimes taking turns question by question: what an answer cannot go below.
- Then per round, runtime and worker count (alternated, so the machine's load falls on all alike)
  a ``rag serve`` (retrieval mode, query cache off, no rate limit) is spawned: **ready** =
  seconds to ``/readyz`` 200 (on every worker); the bench then waits until ``/api/admin/stats``
  reports the final runtime (onnxruntime or torch loads in the background) and measures
  ``POST /api/ask`` with distinct questions (the questions of bench/heldout*.jsonl and
  ../shared/eval/dev.jsonl, each numbered so none repeats) at c=1 (p50, p95) and c=8 (req/s,
  errors); **RSS** is read after the load, per process (the largest worker; with one worker the
  server process itself). ``--solo-threads`` (RAG_EMBED_SOLO_THREADS, alternated) gives a query
  encoded alone that many onnxruntime threads.
- **client**: the load runs on the same 2 cores as the server. ``httpx`` (the default) spends about
  1.7 ms of CPU per request; ``raw`` (HTTP/1.1 keep-alive over asyncio streams, request bytes built
  by hand, response read by Content-Length) a small fraction of that, so c=8 measures the server
  more than the client. The client's own CPU per request is printed.
- ``--question-log``: every server records the questions in a SQLite file of its own, as a
  default server does (off otherwise: the issue's figures are of the answer path alone).
- ``--interleave``: on a machine whose load changes from minute to minute (other jobs), every
  configuration's server is started at once and each round gives each in turn 30 questions at c=1
  and 96 at c=8, the order rotating; p50/p95 pool the c=1 latencies of all rounds and req/s is the
  median of the c=8 bursts. Comparisons then hold even when a run-after-run table would not.
Runtimes: ``auto`` (the default: onnx-mixed here), ``onnx-mixed``, ``onnx-q4``, ``onnx-int8``, ``onnx-fp32``, ``torch``,
``engine``. Medians over rounds are printed; ``--json FILE`` writes every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
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


RUNTIMES = {
    "auto": {"RAG_E5_RUNTIME": "auto"},
    "onnx-q4": {"RAG_E5_RUNTIME": "onnx", "RAG_E5_ONNX": "q4"},
    "onnx-mixed": {"RAG_E5_RUNTIME": "onnx", "RAG_E5_ONNX": "mixed"},
    "onnx-int8": {"RAG_E5_RUNTIME": "onnx", "RAG_E5_ONNX": "int8"},
    "onnx-fp32": {"RAG_E5_RUNTIME": "onnx", "RAG_E5_ONNX": "fp32"},
    "torch": {"RAG_E5_RUNTIME": "torch"},
    "engine": {"RAG_E5_RUNTIME": "engine"},
}


def encoder_floors(runtimes: list[str], n: int = 150) -> dict[str, float]:
    """Median ``embed_query`` per runtime in this process (one thread), the runtimes taking turns on each question."""
    from rag.embedder import load_embedder
    from rag.settings import Settings

    embedders = {}
    for runtime in runtimes:
        env = RUNTIMES[runtime]
        embedders[runtime] = load_embedder(Settings(e5_runtime=env["RAG_E5_RUNTIME"], embed_solo_threads=1,
                                                    **({"e5_onnx": env["RAG_E5_ONNX"]} if "RAG_E5_ONNX" in env else {})))
    times: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
    for i, q in enumerate(distinct(n + 10, 900_000)):
        for j in range(len(runtimes)):
            runtime = runtimes[(i + j) % len(runtimes)]  # each runtime goes first in turn
            t0 = time.perf_counter()
            embedders[runtime].embed_query(q)
            if i >= 10:  # the first questions warm up
                times[runtime].append(time.perf_counter() - t0)
    return {runtime: statistics.median(t) * 1000 for runtime, t in times.items()}


def process_rss_mib(pid: int) -> float:
    """RSS of the server process, or of its largest worker when ``--workers`` started children."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return max([rss_mib(int(c)) for c in children] or [rss_mib(pid)])


async def load(url: str, concurrency: int, qs: list[str], client: str = "httpx") -> tuple[list[float], float, int]:
    if client == "raw":
        return await load_raw(url, concurrency, qs)
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


async def load_raw(url: str, concurrency: int, qs: list[str]) -> tuple[list[float], float, int]:
    """As :func:`load` with ``concurrency`` keep-alive connections of a minimal HTTP/1.1 client."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(qs))

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while queue:
                body = json.dumps({"question": queue.pop(), "mode": "retrieval"}).encode()
                head = (f"POST /api/ask HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode()
                t0 = time.perf_counter()
                writer.write(head + body)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                errors += status_line.split()[1:2] != [b"200"]
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - t0, errors


def start_server(root: Path, index: Path, runtime: str, workers: int, solo_threads: int | None,
                 question_log: bool = False) -> tuple[subprocess.Popen, str, float, str]:
    """Spawn a server; returns it, its URL, seconds to ready and the runtime it serves with once final
    (``question_log``: the server records every question, as by default, in a SQLite file of its own
    in the temp dir)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    solo = {} if solo_threads is None else {"RAG_EMBED_SOLO_THREADS": str(solo_threads)}
    logged = Path(tempfile.gettempdir()) / f"bench_serving_{port}.db"
    for stale in logged.parent.glob(logged.name + "*"):
        stale.unlink()
    process = serve_tree(root, index, port, "bench_serving", workers=workers, **RUNTIMES[runtime], **solo,
                         RAG_QUESTION_LOG=str(question_log).lower(), RAG_QUESTION_LOG_URL=f"sqlite:///{logged}",
                         RAG_QUERY_CACHE_SIZE="0", RAG_RATE_LIMIT_PER_MINUTE="0",
                         RAG_MODE="retrieval", RAG_API_KEYS="", RAG_ADMIN_TOKEN=TOKEN)
    try:
        ready = wait_ready(url, process, started)
        # Wait for the final runtime (onnxruntime or torch loads in the background after ready), on
        # enough fresh connections in a row to have reached every worker.
        streak = 0
        for _ in range(1200):
            stats = httpx.get(url + "/api/admin/stats", headers={"Authorization": f"Bearer {TOKEN}"}).json()["stats"]
            streak = streak + 1 if runtime == "engine" or stats["embed_runtime"] != "engine" else 0
            if streak >= 4 * workers:
                break
            time.sleep(0.1)
    except BaseException:
        stop_server(process)
        raise
    return process, url, ready, stats["embed_runtime"]


def one_server(root: Path, index: Path, runtime: str, workers: int, requests: int, offset: int,
               solo_threads: int | None = None, client: str = "httpx", question_log: bool = False) -> dict:
    process, url, ready, served_by = start_server(root, index, runtime, workers, solo_threads, question_log)
    try:
        asyncio.run(load(url, 1, distinct(10, offset), client))  # warm-up
        lat1, _, err1 = asyncio.run(load(url, 1, distinct(requests, offset + 10), client))
        cpu0 = time.process_time()
        _, wall8, err8 = asyncio.run(load(url, 8, distinct(requests, offset + 10 + requests), client))
        client_ms = (time.process_time() - cpu0) / requests * 1000
        ordered = sorted(lat1)
        return {"root": str(root), "runtime": runtime, "workers": workers, "solo_threads": solo_threads,
                "client": client, "client_cpu_ms": client_ms, "served_by": served_by, "ready_s": ready,
                "p50_ms": statistics.median(ordered) * 1000,
                "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
                "rps_c8": requests / wall8, "errors": err1 + err8, "rss_mib": process_rss_mib(process.pid)}
    finally:
        stop_server(process)


def interleaved(configs: list[tuple[Path, str, int, int | None]], index: Path, rounds: int, client: str,
                question_log: bool = False) -> list[dict]:
    """Every configuration's server up at once; each round gives each in turn 30 questions at c=1
    and 96 at c=8 (the order rotating), so the machine's changing load falls on all alike. One
    result per configuration: c=1 latencies pooled over the rounds, req/s the median of its c=8 bursts."""
    servers = []
    try:
        for root, runtime, workers, solo in configs:
            servers.append(start_server(root.resolve(), index, runtime, workers, solo, question_log))
        for _, url, _, _ in servers:
            asyncio.run(load(url, 1, distinct(10, 0), client))  # warm-up
        lat: list[list[float]] = [[] for _ in servers]
        rps: list[list[float]] = [[] for _ in servers]
        errors = [0] * len(servers)
        offset = 1_000
        for r in range(rounds):
            for k in range(len(servers)):
                i = (r + k) % len(servers)
                url = servers[i][1]
                l1, _, e1 = asyncio.run(load(url, 1, distinct(30, offset), client))
                _, wall8, e8 = asyncio.run(load(url, 8, distinct(96, offset + 30), client))
                offset += 126
                lat[i] += l1
                rps[i].append(96 / wall8)
                errors[i] += e1 + e8
        runs = []
        for (root, runtime, workers, solo), (process, _, ready, served_by), l1, r8, err in zip(
                configs, servers, lat, rps, errors, strict=True):
            ordered = sorted(l1)
            runs.append({"root": str(root.resolve()), "runtime": runtime, "workers": workers, "solo_threads": solo,
                         "client": client, "client_cpu_ms": float("nan"), "served_by": served_by, "ready_s": ready,
                         "p50_ms": statistics.median(ordered) * 1000,
                         "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
                         "rps_c8": statistics.median(r8), "rps_c8_bursts": r8, "errors": err,
                         "rss_mib": process_rss_mib(process.pid)})
            print(json.dumps(runs[-1]), flush=True)
        return runs
    finally:
        for process, *_ in servers:
            stop_server(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index directory (rag ingest)")
    parser.add_argument("--runtime", nargs="+", default=["auto", "onnx-int8", "torch", "engine"], choices=list(RUNTIMES))
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="rag serve --workers, alternated")
    parser.add_argument("--solo-threads", type=int, nargs="+", default=[None],
                        help="RAG_EMBED_SOLO_THREADS, alternated (default: the server's own default)")
    parser.add_argument("--client", choices=["httpx", "raw"], default="httpx", help="the load generator (see above)")
    parser.add_argument("--interleave", action="store_true",
                        help="all configurations up at once, bursts alternated (see interleaved()); --requests unused")
    parser.add_argument("--root", type=Path, nargs="+", default=[ROOT],
                        help="source trees to serve (``-m`` runs the working directory's code), alternated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--question-log", action="store_true",
                        help="servers record questions as a default server does (off: the figures of the issue)")
    parser.add_argument("--requests", type=int, default=200, help="questions per load level")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    floors = encoder_floors(args.runtime)
    print(json.dumps({"encoder_floor_ms": floors}), flush=True)
    configs = [(root, runtime, workers, solo) for root in args.root for runtime in args.runtime
               for workers in args.workers for solo in args.solo_threads]
    runs: list[dict] = []
    offset = 0
    if args.interleave:
        runs = interleaved(configs, args.index.resolve(), args.rounds, args.client, args.question_log)
    for _ in range(0 if args.interleave else args.rounds):
        for root, runtime, workers, solo in configs:
            runs.append(one_server(root.resolve(), args.index.resolve(), runtime, workers, args.requests, offset,
                                   solo, args.client, args.question_log))
            offset += 10 + 2 * args.requests
            print(json.dumps(runs[-1]), flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(f"client: {args.client}")
    print("| root | runtime | workers | solo threads | served by | encoder floor ms | ask p50 ms c=1 | p95 ms c=1 "
          "| req/s c=8 | errors | ready s | RSS MiB | client CPU ms/req |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for root, runtime, workers, solo in configs:
        mine = [r for r in runs if (r["root"], r["runtime"], r["workers"], r["solo_threads"])
                == (str(root.resolve()), runtime, workers, solo)]

        def med(key: str, mine=mine) -> float:
            return statistics.median(r[key] for r in mine)

        print(f"| {root} | {runtime} | {workers} | {'default' if solo is None else solo} | {mine[-1]['served_by']} "
              f"| {floors[runtime]:.1f} | {med('p50_ms'):.1f} | {med('p95_ms'):.1f} | {med('rps_c8'):.0f} "
              f"| {sum(r['errors'] for r in mine)} | {med('ready_s'):.2f} | {med('rss_mib'):.0f} "
              f"| {med('client_cpu_ms'):.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"floors_ms": floors, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
