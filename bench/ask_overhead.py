"""Per question, embed it, then ask it (no query cache): the median embedding time and the median
cost of the rest of an answer (retrieval, extraction, citations).

Run it alternately on two checkouts (``PYTHONPATH=<checkout>``) to compare the answer path
side by side without the process-to-process spread of the embedding itself.

    python bench/ask_overhead.py --index var/index [--rounds 6]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rag.engine import Engine
from rag.settings import Settings

DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"


def _forget_question_caches() -> None:
    """Each round asks the same questions: clear what the reader caches per question and passage
    (where the checkout has it), so every ask costs what a new question costs."""
    try:
        from rag.answer import reader
    except ImportError:  # a checkout before the reader
        return
    caches = [reader.focus_grams, reader._question_grams, reader._sentences_of]
    if hasattr(reader, "_form"):
        caches.append(reader._form)
    for cached in caches:
        cached.cache_clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=DEV)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    engine = Engine.open(Settings(index_dir=args.index, query_cache_size=0))
    qs = [json.loads(line)["question"] for line in args.questions.read_text(encoding="utf-8").splitlines() if line]
    for q in qs:  # warm-up
        engine.ask(q, mode="retrieval")
    embed_ms, ask_ms = [], []
    for _ in range(args.rounds):
        for q in qs:
            _forget_question_caches()
            t0 = time.perf_counter()
            engine.embedder.embed_query(q)
            t1 = time.perf_counter()
            engine.ask(q, mode="retrieval")
            t2 = time.perf_counter()
            embed_ms.append((t1 - t0) * 1000)
            ask_ms.append((t2 - t1) * 1000)
    embed, ask = statistics.median(embed_ms), statistics.median(ask_ms)
    print(f"embed {embed:.2f} ms, ask {ask:.2f} ms, ask minus embed {ask - embed:.2f} ms "
          f"(medians of {len(ask_ms)} questions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
