"""The answer path without the encoder: retrieval, the reader and citations, each question's vector
computed beforehand, on fresh questions (no cache of questions or their parts holds them).

    python bench/answer_path.py --index /tmp/ix                         # this checkout
    python bench/answer_path.py --index /tmp/ix --root /tmp/before .    # two trees, alternating

Each process measures ``--rounds`` rounds of 300 questions and reports the median of its rounds'
medians. With two roots, each pair of runs (one process per tree, in turn) prints both and their
ratio; the median of the ratios is the figure to quote on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(index: Path, rounds: int) -> list[float]:
    """Medians (ms) of ``rounds`` rounds of 300 fresh questions each, in this process."""
    sys.path.insert(0, str(ROOT / "bench"))
    from serving import distinct  # the serving benchmark's numbered questions

    from rag.engine import Engine
    from rag.settings import Settings

    engine = Engine.open(Settings(index_dir=index, query_cache_size=0))
    questions = distinct(300 * (rounds + 1), 0)
    vectors = {q: engine.embedder.embed_query(q) for q in questions}
    encode = engine.embedder.embed_query

    def vector(text: str):
        # The encoder is not what is measured; a question that names an article or an author is
        # also read without the names (Engine._reader_vector): that text is encoded when first met.
        found = vectors.get(text)
        if found is None:
            found = vectors[text] = encode(text)
        return found

    engine._retriever._embed_query = vector
    for q in questions[:100]:
        engine.ask(q, mode="retrieval")
    medians = []
    for r in range(1, rounds + 1):
        times = []
        for q in questions[300 * r: 300 * (r + 1)]:
            start = time.perf_counter()
            engine.ask(q, mode="retrieval")
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times) * 1000)
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--root", type=Path, nargs="*", default=[], help="source trees, alternated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one process's figures
    args = parser.parse_args(argv)
    if len(args.root) == 1 or len(args.root) > 2:
        parser.error("--root takes two trees (to compare); without it, the installed rag is measured")
    if not args.root:
        import rag

        medians = measure(args.index, args.rounds)
        print(f"rag from {Path(rag.__file__).parent}", file=sys.stderr)
        print(json.dumps(medians) if args.json else f"answer path without the encoder: medians "
              f"{', '.join(f'{m:.2f}' for m in medians)} ms")
        return 0
    ratios = []
    for _ in range(args.pairs):
        pair = []
        for root in args.root:
            # The tree's rag first on the path (before the installed checkout); this script runs the same.
            out = subprocess.run([sys.executable, __file__, "--index", str(args.index), "--rounds", str(args.rounds),
                                  "--json"], capture_output=True, text=True, check=True,
                                 env={**os.environ, "PYTHONPATH": str(root.resolve())})
            pair.append(statistics.median(json.loads(out.stdout.strip().splitlines()[-1])))
        ratios.append(pair[1] / pair[0])
        print(f"{args.root[0]} {pair[0]:.2f} ms, {args.root[1]} {pair[1]:.2f} ms, ratio {ratios[-1]:.3f}", flush=True)
    print(f"median ratio {statistics.median(ratios):.3f} over {len(ratios)} pairs (load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
