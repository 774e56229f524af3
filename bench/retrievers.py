"""Retriever ablation on a question set: dense only, each BM25 alone, and the fused ranking.

Usage: python bench/retrievers.py ../shared/eval/dev.jsonl --index var/index
(build the index first with `rag ingest`; set RAG_EMBED_BACKEND for the other model).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rag.engine import Engine
from rag.evaluate import evaluate, load_items
from rag.settings import Settings

ABLATIONS = {
    "dense": {"dense_weight": 1.0, "words_weight": 0.0, "bigrams_weight": 0.0},
    "bm25 words": {"dense_weight": 0.0, "words_weight": 1.0, "bigrams_weight": 0.0},
    "bm25 bigrams": {"dense_weight": 0.0, "words_weight": 0.0, "bigrams_weight": 1.0},
    "fused (default)": {},
}
COLUMNS = ("hit@1", "hit@5", "mrr", "evidence@5", "refusal", "false_refusal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--index", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    base = Settings(**({"index_dir": args.index} if args.index else {}))
    items = load_items(args.file)
    embedder = None
    print(f"{'retriever':18s}" + "".join(f"{c:>14s}" for c in COLUMNS))
    for name, overrides in ABLATIONS.items():
        settings = base.model_copy(update=overrides)
        engine = Engine.open(settings, embedder=embedder)
        embedder = engine.embedder
        figures = evaluate(engine, items)["overall"]
        print(f"{name:18s}" + "".join(f"{figures.get(c, float('nan')):>14.2f}" for c in COLUMNS))
    print(f"embedder: {embedder.info.backend} {embedder.info.model}; weights: {engine.stats()['weights']}")
    print(f"model fit: {engine.stats()['model_fit']}")


if __name__ == "__main__":
    main()
