"""Figure questions: is the asked figure in the offline answer, and are the ones the articles do
not answer refused?

    python bench/figures.py --index var/index bench/questions/figures.jsonl bench/questions/figures2.jsonl

Each line of a set: ``question``, ``expected`` (answer | none) and, for an answer, ``figure`` (the
article's exact words that state it). Prints, per set, how many answerable questions get an answer
holding the figure, how many are refused, and how many of the others are refused; ``--show`` lists
the misses.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.engine import Engine
from rag.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--show", action="store_true", help="list the questions missed")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args(argv)
    engine = Engine.open(Settings(index_dir=args.index, query_cache_size=0))
    report: dict[str, dict[str, int]] = {}
    for path in args.files:
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        answerable = [i for i in items if i["expected"] == "answer"]
        stated = refused = none_refused = 0
        misses = []
        for item in items:
            answer = engine.ask(item["question"], mode="retrieval")
            if item["expected"] == "answer":
                refused += answer.refused
                found = not answer.refused and item["figure"] in answer.answer
                stated += found
                if not found:
                    misses.append(("refused" if answer.refused else "no figure", item, answer.answer))
            else:
                none_refused += answer.refused
                if not answer.refused:
                    misses.append(("answered", item, answer.answer))
        none = len(items) - len(answerable)
        report[path.name] = {"answerable": len(answerable), "figure_in_answer": stated, "refused": refused,
                             "none": none, "none_refused": none_refused}
        print(f"{path.name}: figure in the answer {stated}/{len(answerable)}, refused {refused}/{len(answerable)}; "
              f"not in the articles, refused {none_refused}/{none}")
        if args.show:
            for why, item, text in misses:
                print(f"  {item.get('id')} {why}: {item['question']} | {text[:80]}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
