"""Soak: mixed ask / streamed chat / search at a fixed concurrency against `rag serve` for a bounded time.

    .venv/bin/python bench/soak.py                          # concurrency 16, 180 s
    .venv/bin/python bench/soak.py --concurrency 16 --seconds 300 --index var/index

The server runs in its own process on a free 127.0.0.1 port (retrieval mode, no rate limit); an
index of data/articles is built into a temporary folder first unless ``--index`` names one. Every
request counts: a non-200, a stream without its ``done`` event, or an ``error`` event is an error.
The server's RSS is read from /proc after warm-up, every 10 s, and at the end: a leak shows as
steady growth. Prints a table and, with ``--json``, the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_api import QUESTIONS, build_index, free_port, start_server, stop_server, wait_ready  # noqa: E402

KINDS = ("ask", "chat_stream", "search")


@dataclass
class Soak:
    """What a soak measured."""

    concurrency: int
    seconds: float
    requests: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    p50_ms: dict[str, float] = field(default_factory=dict)
    p95_ms: dict[str, float] = field(default_factory=dict)
    rss_mib: list[float] = field(default_factory=list)  # start (after warm-up), every 10 s, end
    error_samples: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def one_request(client: httpx.AsyncClient, kind: str, question: str) -> str | None:
    """Send one request of ``kind``; None when it succeeded, else what went wrong."""
    if kind == "ask":
        r = await client.post("/api/ask", json={"question": question})
        return None if r.status_code == 200 and r.json().get("answer") else f"ask {r.status_code} {r.text[:120]}"
    if kind == "search":
        r = await client.get("/api/search", params={"q": question})
        return None if r.status_code == 200 and "hits" in r.json() else f"search {r.status_code} {r.text[:120]}"
    body = {"messages": [{"role": "user", "content": "产业互联网是什么？"}, {"role": "assistant", "content": "……"},
                         {"role": "user", "content": question}], "stream": True}
    async with client.stream("POST", "/api/chat", json=body) as r:
        if r.status_code != 200:
            return f"chat {r.status_code}"
        events = [line async for line in r.aiter_lines() if line.startswith("event: ")]
    if "event: error" in events or events[-1:] != ["event: done"]:
        return f"chat stream events {events[-3:]}"
    return None


async def soak(base_url: str, pid: int, concurrency: int, seconds: float) -> Soak:
    result = Soak(concurrency, seconds, {k: 0 for k in KINDS}, {k: 0 for k in KINDS})
    latencies: dict[str, list[float]] = {k: [] for k in KINDS}
    plan = itertools.cycle(itertools.product(KINDS, QUESTIONS))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        for kind, question in itertools.islice(plan, len(KINDS) * 2):  # warm-up, not counted
            await one_request(client, kind, question)
        result.rss_mib.append(round(rss_mib(pid), 1))
        end = time.monotonic() + seconds

        async def worker() -> None:
            while time.monotonic() < end:
                kind, question = next(plan)
                start = time.perf_counter()
                try:
                    problem = await one_request(client, kind, question)
                except httpx.HTTPError as exc:
                    problem = f"{kind} {type(exc).__name__}: {exc}"
                latencies[kind].append((time.perf_counter() - start) * 1000)
                result.requests[kind] += 1
                if problem:
                    result.errors[kind] += 1
                    if len(result.error_samples) < 10:
                        result.error_samples.append(problem)

        async def sample_rss() -> None:
            while time.monotonic() < end - 10:
                await asyncio.sleep(10)
                result.rss_mib.append(round(rss_mib(pid), 1))

        await asyncio.gather(sample_rss(), *(worker() for _ in range(concurrency)))
    result.rss_mib.append(round(rss_mib(pid), 1))
    for kind, values in latencies.items():
        if values:
            result.p50_ms[kind] = round(statistics.median(values), 1)
            result.p95_ms[kind] = round(statistics.quantiles(values, n=20)[-1], 1) if len(values) > 1 else values[0]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=180, help="soak length (bounded: at most 600)")
    parser.add_argument("--index", type=Path, help="an existing index (default: build one in a temp folder)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    seconds = min(args.seconds, 600)
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or build_index(Path(tmp) / "index")
        port = free_port()
        started = time.perf_counter()
        server = start_server("rag", index, port, workers=1)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_ready(base_url, server, started)
            result = asyncio.run(soak(base_url, server.pid, args.concurrency, seconds))
        finally:
            stop_server(server)
    print(f"soak: concurrency {result.concurrency}, {result.seconds:.0f} s, {result.total} requests, "
          f"{sum(result.errors.values())} errors")
    print(f"{'kind':<12} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for kind in KINDS:
        print(f"{kind:<12} {result.requests[kind]:>9} {result.errors[kind]:>7} "
              f"{result.p50_ms.get(kind, 0):>8} {result.p95_ms.get(kind, 0):>8}")
    print(f"server RSS MiB: start {result.rss_mib[0]}, end {result.rss_mib[-1]}, max {max(result.rss_mib)}, "
          f"samples {result.rss_mib}")
    for sample in result.error_samples:
        print("  error:", sample)
    if args.json:
        print(json.dumps({**asdict(result), "total": result.total}, ensure_ascii=False))
    return 1 if sum(result.errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
