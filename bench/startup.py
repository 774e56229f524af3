"""Start-up to ready: seconds from spawning ``rag serve`` to ``/readyz`` 200, and RSS once ready.

    .venv/bin/python bench/startup.py --index var/index --runs 5
    .venv/bin/python bench/startup.py --index var/index --root /tmp/base . --runs 5   # before/after, alternated

Each run spawns ``rag serve`` (one worker) from a source tree (``--root``; ``-m`` puts its
working directory first on sys.path), for each runtime (``--runtime auto torch engine``, see bench/serving.py), and measures
the first 200 of ``/readyz`` (polled every 10 ms) and the RSS 3 s after ready. Runs alternate
between roots and runtimes so that the machine's load falls on all alike; medians are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_api import free_port, serve_tree, stop_server, wait_ready  # noqa: E402
from serving import RUNTIMES  # noqa: E402
from soak import rss_mib  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def one_run(root: Path, index: Path, runtime: str) -> tuple[float, float]:
    """Seconds to the first /readyz 200, and RSS (MiB) 3 s later."""
    port = free_port()
    started = time.perf_counter()
    process = serve_tree(root, index, port, "startup", **RUNTIMES[runtime], RAG_QUESTION_LOG="false")
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}", process, started)
        time.sleep(3)
        return ready, rss_mib(process.pid)
    finally:
        stop_server(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index directory (rag ingest)")
    parser.add_argument("--root", type=Path, nargs="+", default=[ROOT], help="source trees to serve, alternated")
    parser.add_argument("--runtime", nargs="+", default=["auto"], choices=list(RUNTIMES))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    for _ in range(args.runs):
        for root in args.root:
            for runtime in args.runtime:
                results.setdefault((str(root), runtime), []).append(one_run(root.resolve(), args.index.resolve(),
                                                                            runtime))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print("| root | runtime | ready s (median) | ready s (all) | RSS MiB (median) |")
    print("|---|---|---:|---|---:|")
    for (root, runtime), runs in results.items():
        readies = [r for r, _ in runs]
        print(f"| {root} | {runtime} | {statistics.median(readies):.2f} | {' '.join(f'{r:.2f}' for r in readies)} "
              f"| {statistics.median(m for _, m in runs):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
