"""Fit the reader's signal weights and check the refusal signals, on questions generated from the
corpus (bench/questions/), never on the evaluation sets.

- Weights: a softmax over each question's candidate sentences (the one holding the answer
  sentence against the others), fitted on ``calib_on.jsonl`` (80 questions, each rephrasing one
  corpus sentence); top-1 accuracy is then reported on the held-out sets too.
- Refusal: ROC AUC of each signal separating ``calib_on`` (answerable) from ``calib_off`` (60
  off-topic, on-topic-but-missing and junk questions), and the share of each side the engine
  answers / refuses at its operating point.

    python bench/reader_fit.py --index var/index
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rag.answer.reader import FEATURES, Reader, ReaderWeights, candidates, question_types, without_source_names
from rag.engine import Engine
from rag.settings import Settings

HERE = Path(__file__).resolve().parent
SETS = {"calib_on": HERE / "questions" / "calib_on.jsonl", "dev": HERE.parents[1] / "shared" / "eval" / "dev.jsonl",
        "heldout": HERE / "heldout.jsonl", "heldout2": HERE / "heldout2.jsonl"}


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def groups(engine: Engine, items: list[dict]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per answerable question: the candidates' feature rows and which of them hold the answer."""
    reader = Reader(engine.index.bigram_idf)
    out = []
    for it in items:
        if it.get("expected", "answer") == "none":
            continue
        answers = [it["answer_sentence"].rstrip("。！？")] if "answer_sentence" in it else it["evidence"]
        r = engine.retriever.search(it["question"], 5)
        cands = candidates([h.chunk.text for h in r.hits], [h.chunk.heading for h in r.hits])
        if not cands:
            continue
        asked = without_source_names(it["question"], [h.article.author for h in r.hits])
        dense = np.stack([engine.index.sentences.get(c.text) for c in cands]) @ r.query_vector
        by_key = {(c.hit, c.pos): c for c in cands}
        prev = [by_key[(c.hit, c.pos - 1)].grams if (c.hit, c.pos - 1) in by_key else frozenset() for c in cands]
        x = reader.features(asked, question_types(asked), cands, dense, prev)
        y = np.array([any(a in c.text for a in answers) for c in cands], float)
        if y.any():
            out.append((x, y))
    return out


def fit(data: list[tuple[np.ndarray, np.ndarray]], l2: float = 0.01, iters: int = 3000, lr: float = 0.5) -> np.ndarray:
    w = np.zeros(len(FEATURES))
    for _ in range(iters):
        grad = l2 * w
        for x, y in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += x.T @ (p - y / y.sum()) / len(data)
        w -= lr * grad
    return w


def top1(data: list[tuple[np.ndarray, np.ndarray]], w: np.ndarray) -> float:
    return float(np.mean([y[np.argmax(x @ w)] for x, y in data]))


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    args = parser.parse_args(argv)
    engine = Engine.open(Settings(index_dir=args.index, query_cache_size=0))
    data = {name: groups(engine, read(path)) for name, path in SETS.items() if path.is_file()}
    fitted = fit(data["calib_on"])
    print("fitted weights:", {f: round(float(v), 2) for f, v in zip(FEATURES, fitted, strict=True)})
    print("top-1 accuracy (the best-scored candidate holds the answer), fitted / shipped weights:")
    for name, d in data.items():
        print(f"  {name:10s} {top1(d, fitted):.2f} / {top1(d, ReaderWeights().vector()):.2f}  ({len(d)} questions)")

    on = read(HERE / "questions" / "calib_on.jsonl")
    off = read(HERE / "questions" / "calib_off.jsonl")
    rows = []
    for label, items in ((1, on), (0, off)):
        for it in items:
            r = engine.retriever.search(it["question"], 5)
            answer = engine.ask(it["question"], mode="retrieval")
            rows.append((label, r.relevance, r.coverage, answer.refused, it.get("kind", "on")))
    labels = np.array([r[0] for r in rows])
    print("refusal signals, ROC AUC answerable vs not (calib_on vs calib_off):")
    for i, name in ((1, "dense relevance"), (2, "lexical coverage")):
        print(f"  {name:18s} {auc(np.array([r[i] for r in rows]), labels):.3f}")
    answered = np.mean([not r[3] for r in rows if r[0] == 1])
    print(f"operating point (engine): answers {answered:.2f} of calib_on; refuses", ", ".join(
        f"{kind} {np.mean([r[3] for r in rows if r[4] == kind]):.2f}" for kind in ("off_topic", "on_topic_missing", "junk")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
