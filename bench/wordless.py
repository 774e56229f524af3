"""Relevance and lexical coverage of every question of the evaluation and calibration sets: where
answerable and unanswerable questions fall under the wordless rule (rag.retrieve's ``NO_WORDS``).

    python bench/wordless.py --index var/index

Coverage is the IDF-weighted share of a question's topic bigrams in its best three passages.
Prints how many questions of each kind have coverage under ``NO_WORDS``, and the lowest coverage of
an answerable question above the relevance floor (bench/README.md, "Eighth round").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.engine import Engine
from rag.retrieve import NO_WORDS
from rag.settings import Settings

HERE = Path(__file__).resolve().parent
SETS = [HERE.parents[1] / "shared" / "eval" / "dev.jsonl", *sorted(HERE.glob("heldout*.jsonl")),
        *sorted((HERE / "questions").glob("*.jsonl"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    args = parser.parse_args(argv)
    engine = Engine.open(Settings(index_dir=args.index, query_cache_size=0))
    rows = []
    for path in (p for p in SETS if p.is_file()):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            # calib_off.jsonl has no `expected`: all of it is off-topic or missing.
            expected = item.get("expected", "none" if path.name == "calib_off.jsonl" else "answer")
            r = engine.retriever.search(item["question"])
            rows.append((expected, r.relevance, r.coverage, r.floor, item["question"]))
    for kind in ("answer", "none"):
        under = [r for r in rows if r[0] == kind and r[2] < NO_WORDS]
        print(f"{kind}: {len(under)} of {sum(r[0] == kind for r in rows)} under coverage {NO_WORDS}, "
              f"{sum(r[1] >= r[3] for r in under)} of them above the relevance floor")
    lowest = min((r for r in rows if r[0] == "answer" and r[1] >= r[3]), key=lambda r: r[2])
    print(f"lowest coverage of an answerable question above the floor: {lowest[2]:.3f}, {lowest[4]} "
          f"({len(rows)} questions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
