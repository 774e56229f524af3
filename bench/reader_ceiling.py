"""The ceiling of the offline reader: answer_points if it quoted exactly the candidate sentences
that hold an evidence string, and if it chose the best four sentences by the points themselves.

    python bench/reader_ceiling.py --index var/index ../shared/eval/dev.jsonl bench/heldout.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.answer.reader import candidates
from rag.engine import Engine
from rag.evaluate import point_recall
from rag.settings import Settings


def _points(points: list[str], text: str) -> float:
    return sum(point_recall(p, text) for p in points) / len(points)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args(argv)
    engine = Engine.open(Settings(index_dir=args.index, query_cache_size=0))
    for path in args.files:
        evidence_total = greedy_total = 0.0
        n = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item.get("expected") == "none" or not item.get("answer_points"):
                continue
            hits = engine.search(item["question"])
            sents = [c.text for c in candidates([h.chunk.text for h in hits])]
            points = item["answer_points"]
            evidence_total += _points(points, "".join(dict.fromkeys(
                s for s in sents if any(e in s for e in item["evidence"]))))
            chosen = ""
            for _ in range(4):
                chosen += max(sents, key=lambda s, c=chosen: _points(points, c + s), default="")
            greedy_total += _points(points, chosen)
            n += 1
        print(f"{path}: quoting the evidence sentences {evidence_total / n:.3f}, "
              f"the best four sentences {greedy_total / n:.3f} ({n} questions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
