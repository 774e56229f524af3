"""Load test of ``POST /api/ask`` (retrieval-only) against a server running in a separate process.

    .venv/bin/python bench/load_api.py                # 3 runs, 200 requests per level, median shown
    .venv/bin/python bench/load_api.py --runs 1 --requests 100 --concurrency 1 4 8 --server uvicorn

Each run starts the server (``rag serve`` by default, or ``uvicorn api.main:app --factory``) on a
free 127.0.0.1 port, measures start-up to ready (first 200 from ``/readyz``), warms up, then sends
the requests at each concurrency level from this process (asyncio + httpx, keep-alive); "api ms"
is the median client latency minus the engine's own ``took_ms`` (HTTP, JSON, queueing); "client cpu"
is the CPU time this load process spent per request, taken from the same two cores. An index
of data/articles is built into a temporary folder first unless ``--index`` names one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "产业互联网为什么需要被正名？",
    "产业互联网和消费互联网有什么区别？",
    "Web3对产业互联网意味着什么？",
    "元宇宙能为产业互联网带来什么？",
    "数字化转型的难点在哪里？",
    "2B公司是怎么赚钱的？",
    "产业互联网的发展报告说了什么？",
    "什么是数字孪生？",
]


@dataclass
class Level:
    """Figures of one concurrency level."""

    concurrency: int
    requests: int
    p50_ms: float
    p95_ms: float
    overhead_ms: float  # median of (client latency - the engine's took_ms): HTTP, JSON, queueing
    client_cpu_ms: float  # CPU this load process spent per request (it shares the machine's cores)
    rps: float
    errors: int


@dataclass
class Run:
    """Figures of one server start and its load levels."""

    startup_s: float
    levels: list[Level]


def free_port() -> int:
    """A port that was free a moment ago (the server binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_index(target: Path) -> Path:
    """Ingest data/articles into ``target`` with the default embedder (what `rag serve` loads)."""
    from ingest.pipeline import run_ingest
    from rag.settings import Settings

    settings = Settings(index_dir=target, corpus_dir=ROOT / "data" / "articles")
    run_ingest([settings.corpus_dir], settings, progress=False)
    return target


def start_server(kind: str, index: Path, port: int, workers: int) -> subprocess.Popen:
    """Spawn the API server; its output goes to a log file so it never blocks on a full pipe."""
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(index),
        "RAG_RATE_LIMIT_PER_MINUTE": "0",  # the bench is one client; the limiter would 429 it
        "RAG_MODE": "retrieval",
        "RAG_API_KEYS": "",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    if kind == "rag":
        cmd = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--workers", str(workers)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ]
    log = open(Path(tempfile.gettempdir()) / f"load_api_server_{port}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def serve_tree(root: Path, index: Path, port: int, log_name: str, workers: int = 1, **env: str) -> subprocess.Popen:
    """``rag serve`` on 127.0.0.1 running ``root``'s code (``-m`` puts the working directory first on
    sys.path) over ``index``, with extra ``RAG_*`` settings; its output goes to a log in the temp dir."""
    environ = {**os.environ, "RAG_INDEX_DIR": str(index), **env}
    log = open(Path(tempfile.gettempdir()) / f"{log_name}_{port}.log", "wb")  # noqa: SIM115
    cmd = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(cmd, cwd=root, env=environ, stdout=log, stderr=subprocess.STDOUT)


def stop_server(process: subprocess.Popen) -> None:
    """Stop a server started by a benchmark: SIGTERM, then SIGKILL if it has not exited in 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def wait_ready(base_url: str, process: subprocess.Popen, started: float, timeout: float = 120.0) -> float:
    """Seconds from spawning the process to ready: 10 straight 200s from /readyz on fresh connections.

    Fresh connections reach every worker process in turn, so all of them must have loaded the index.
    """
    streak = 0
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            ok = httpx.get(base_url + "/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            ok = False
        streak = streak + 1 if ok else 0
        if streak == 1:
            ready_at = time.perf_counter() - started
        if streak >= 10:
            return ready_at
        if not ok:
            time.sleep(0.01)
    raise TimeoutError("the server did not become ready")


async def load(base_url: str, concurrency: int, total: int, fresh: bool = False) -> Level:
    """Send ``total`` questions with ``concurrency`` workers (keep-alive unless ``fresh``)."""
    latencies: list[float] = []
    overheads: list[float] = []
    errors = 0
    issued = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0 if fresh else concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal issued, errors
            while issued < total:
                question = QUESTIONS[issued % len(QUESTIONS)]
                issued += 1
                t0 = time.perf_counter()
                try:
                    response = await client.post("/api/ask", json={"question": question, "mode": "retrieval"})
                    body = response.json()
                    ok = response.status_code == 200 and body["mode"] == "retrieval"
                except (httpx.HTTPError, ValueError, KeyError):
                    ok = False
                elapsed = time.perf_counter() - t0
                latencies.append(elapsed)
                if ok:
                    overheads.append(elapsed - body["took_ms"] / 1000)
                errors += not ok

        started, cpu_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    ordered = sorted(latencies)
    return Level(
        concurrency=concurrency,
        requests=len(ordered),
        p50_ms=statistics.median(ordered) * 1000,
        p95_ms=ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
        overhead_ms=statistics.median(overheads) * 1000 if overheads else float("nan"),
        client_cpu_ms=cpu / len(ordered) * 1000,
        rps=len(ordered) / wall,
        errors=errors,
    )


def one_run(kind: str, index: Path, levels: list[int], requests: int, warmup: int, workers: int, fresh: bool) -> Run:
    """Start a server, measure start-up and every level, stop the server."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = start_server(kind, index, port, workers)
    try:
        startup = wait_ready(base_url, process, started)
        asyncio.run(load(base_url, 1, warmup))
        return Run(startup, [asyncio.run(load(base_url, c, requests, fresh)) for c in levels])
    finally:
        stop_server(process)


def median_run(runs: list[Run]) -> Run:
    """The median of every figure over the runs."""
    levels = []
    for i, first in enumerate(runs[0].levels):
        column = [run.levels[i] for run in runs]
        levels.append(
            Level(
                concurrency=first.concurrency,
                requests=first.requests,
                p50_ms=statistics.median(level.p50_ms for level in column),
                p95_ms=statistics.median(level.p95_ms for level in column),
                overhead_ms=statistics.median(level.overhead_ms for level in column),
                client_cpu_ms=statistics.median(level.client_cpu_ms for level in column),
                rps=statistics.median(level.rps for level in column),
                errors=max(level.errors for level in column),
            )
        )
    return Run(statistics.median(run.startup_s for run in runs), levels)


def print_table(title: str, run: Run) -> None:
    """One small table per run (and one for the median)."""
    print(f"\n{title}: start-up to ready {run.startup_s:.2f} s")
    header = ("concurrency", "requests", "p50 ms", "p95 ms", "api ms", "client cpu", "req/s", "errors")
    print(" ".join(f"{h:>11}" for h in header))
    for level in run.levels:
        cells = (
            f"{level.concurrency}",
            f"{level.requests}",
            f"{level.p50_ms:.1f}",
            f"{level.p95_ms:.1f}",
            f"{level.overhead_ms:.1f}",
            f"{level.client_cpu_ms:.1f}",
            f"{level.rps:.1f}",
            f"{level.errors}",
        )
        print(" ".join(f"{c:>11}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="existing index folder (default: build one from data/articles)")
    parser.add_argument("--server", choices=["rag", "uvicorn"], default="rag", help="how to start the server")
    parser.add_argument("--requests", type=int, default=200, help="requests per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8], help="concurrency levels")
    parser.add_argument("--runs", type=int, default=3, help="server starts; the median is reported")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests after start-up")
    parser.add_argument("--workers", type=int, default=1, help="server processes (rag serve --workers)")
    parser.add_argument(
        "--fresh-connections",
        action="store_true",
        help="a new connection per request (spreads load over --workers; keep-alive pins it to one)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="load_api_") as tmp:
        index = args.index
        if index is None:
            print("building an index of data/articles ...", flush=True)
            index = build_index(Path(tmp) / "index")
        runs = []
        for i in range(args.runs):
            run = one_run(
                args.server, index, args.concurrency, args.requests, args.warmup, args.workers, args.fresh_connections
            )
            print_table(f"run {i + 1}", run)
            runs.append(run)
    if len(runs) > 1:
        print_table(f"median of {len(runs)} runs", median_run(runs))
    failed = sum(level.errors for run in runs for level in run.levels)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
