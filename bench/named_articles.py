"""Questions that name two articles: does each named article have a passage among the top k?

    python bench/named_articles.py --index var/index

Asks 「《A》和《B》分别怎么看X？」 for every pair of the library's titles and each topic below, and prints
how many of these questions lack a passage of one of the two named articles (rag.retrieve's
``Retriever._with_named``; bench/README.md, "Eighth round").
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from rag.engine import Engine
from rag.settings import Settings

TOPICS = ("平台", "B端流量", "元宇宙", "Web3", "数字化转型", "消费互联网", "去中心化", "新技术", "资本市场", "产业端的改造")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--show", action="store_true", help="list the questions that lack an article")
    args = parser.parse_args(argv)
    engine = Engine.open(Settings(index_dir=args.index, query_cache_size=0))
    titles = {m.article_id: m.title for m in engine.index.store.metas()}
    asked = missing = 0
    for (a, title_a), (b, title_b) in itertools.combinations(sorted(titles.items()), 2):
        for topic in TOPICS:
            question = f"《{title_a}》和《{title_b}》分别怎么看{topic}？"
            found = {h.article.article_id for h in engine.search(question)}
            asked += 1
            if not {a, b} <= found:
                missing += 1
                if args.show:
                    print(f"  {question} | {sorted(found)}")
    print(f"{asked} questions naming two articles; lacking a passage of one of them: {missing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
