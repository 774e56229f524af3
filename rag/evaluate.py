"""Quality metrics over a question set (format: shared/eval/README.md) for `rag eval`."""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from rag.answer.citations import strip_markers
from rag.engine import Engine
from rag.errors import QuestionSetError
from rag.text import cjk_bigrams, sentences
from rag.types import Answer, Citation, Delta, Done, Mode

METRICS = ("hit@1", "hit@5", "mrr", "evidence@5", "citation_ok", "answer_evidence", "answer_points",
           "first_point", "answer_chars", "false_refusal", "refusal")
# A first sentence "carries" a key point when it holds this share of the point's bigrams.
FIRST_POINT_RECALL = 0.5
# Per-question figures `--compare` reports when they changed between two runs.
COMPARED = ("hit@1", "evidence@5", "answer_evidence", "answer_points", "first_point", "refused")


def load_items(path: Path) -> list[dict]:
    """Read a JSONL question set; blank lines are ignored. Unreadable input is a QuestionSetError."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"无法读取问题集 {path}：{getattr(exc, 'strerror', None) or exc}") from exc
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path} 第 {number} 行不是合法的 JSON：{exc.msg}") from exc
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise QuestionSetError(f"{path} 第 {number} 行缺少 question 字段（格式见 ../shared/eval/README.md）。")
        items.append(item)
    return items


def _source_of(source: str) -> str:
    return Path(source).name


def _matches(source: str, expected: Iterable[str]) -> bool:
    name = _source_of(source)
    return any(name.startswith(e) for e in expected)


def point_recall(point: str, text: str) -> float:
    """ROUGE-2 recall of a key point in the answer: the share of its character bigrams the text has.

    Points are short paraphrases ("C端较盲目，B端更理性"), so this is graded, not a match: it rises
    when the answer quotes the sentence the point summarises.
    """
    wanted = set(cjk_bigrams(point))
    return len(wanted & set(cjk_bigrams(text))) / len(wanted) if wanted else 0.0


# Extra figures of `rag eval --mode llm|auto`: medians of the times, means of the rest.
# model_first_s: to the model's first piece (with RAG_LLM_PROMPT=summary the reader's quotes, which
# ttft_s times, come before it).
LLM_METRICS = ("citation_precision", "ungrounded", "llm_share", "ttft_s", "model_first_s", "total_s")


def _timed_answer(engine: Engine, question: str, mode: Mode, k: int) -> tuple[Answer, dict]:
    """The answer through the streaming path, with the time to its first text and to its end."""
    t0 = time.perf_counter()
    first = None
    answer = None
    for event in engine.stream(question, mode=mode, top_k=k):
        if isinstance(event, Delta) and event.text.strip() and first is None:
            first = time.perf_counter() - t0
        elif isinstance(event, Done):
            answer = event.answer
    total = time.perf_counter() - t0
    assert answer is not None, "Engine.stream ends with Done"
    times = {"ttft_s": round(first if first is not None else total, 3), "total_s": round(total, 3)}
    if "llm_first_ms" in answer.timings:
        times["model_first_s"] = round((answer.timings.get("retrieval_ms", 0.0) + answer.timings["llm_first_ms"]) / 1000, 3)
    return answer, times


def _cited_precisely(citation: Citation, sources: list[str], evidence: list[str], points: list[str]) -> bool:
    """A cited passage holds supporting text: it is from an expected article and contains an
    evidence string or at least half of a key point's bigrams."""
    if not _matches(citation.source, sources):
        return False
    return any(e in citation.passage for e in evidence) or any(point_recall(p, citation.passage) >= 0.5
                                                              for p in points)


def score_item(engine: Engine, item: dict, mode: Mode = "retrieval", k: int = 5) -> dict:
    """Per-question figures; retrieval figures only for answerable questions."""
    times: dict = {}
    if mode == "retrieval":
        answer = engine.ask(item["question"], mode=mode, top_k=k)
    else:
        answer, times = _timed_answer(engine, item["question"], mode, k)
    row: dict = {"id": item.get("id"), "type": item.get("type", "?"), "refused": answer.refused}
    if mode != "retrieval":
        row.update(times, mode=answer.mode, degraded=answer.degraded)
        row["llm_share"] = 1.0 if answer.mode == "llm" else 0.0
        if not answer.refused:
            row["ungrounded"] = 0.0 if answer.grounded else 1.0
    if item.get("expected", "answer") == "none":
        row["refusal"] = 1.0 if answer.refused else 0.0
        return row
    sources = item.get("sources", [])
    ranks = [i for i, h in enumerate(answer.hits) if _matches(h.article.source, sources)]
    row["hit@1"] = 1.0 if ranks and ranks[0] == 0 else 0.0
    row["hit@5"] = 1.0 if ranks and ranks[0] < k else 0.0
    row["mrr"] = 1.0 / (ranks[0] + 1) if ranks else 0.0
    evidence = item.get("evidence", [])
    row["evidence@5"] = 1.0 if any(e in h.chunk.text for e in evidence for h in answer.hits[:k]) else 0.0
    row["false_refusal"] = 1.0 if answer.refused else 0.0
    row["citation_ok"] = 1.0 if any(_matches(c.source, sources) for c in answer.citations) else 0.0
    # What the reader sees: does the answer itself quote an evidence passage, and how much of
    # the expected key points does it cover? (Markers removed; a refusal scores 0 on both.)
    text = "" if answer.refused else strip_markers(answer.answer)
    row["answer_evidence"] = 1.0 if any(e in text for e in evidence) else 0.0
    points = item.get("answer_points") or []
    if points:
        row["answer_points"] = round(sum(point_recall(p, text) for p in points) / len(points), 4)
        # Does the answer say it at once? (The reader puts its best passage first.)
        first = next(iter(sentences(text)), "")
        row["first_point"] = 1.0 if any(point_recall(p, first) >= FIRST_POINT_RECALL for p in points) else 0.0
    if not answer.refused:
        row["answer_chars"] = len(text)
    if mode != "retrieval" and answer.citations:
        precise = [_cited_precisely(c, sources, evidence, points) for c in answer.citations]
        row["citation_precision"] = round(sum(precise) / len(precise), 4)
    return row


def evaluate(engine: Engine, items: list[dict], mode: Mode = "retrieval", k: int = 5) -> dict:
    """Averages overall and per question type, plus the per-question rows."""
    rows = [score_item(engine, it, mode, k) for it in items]

    def average(subset: list[dict]) -> dict:
        out = {}
        for m in METRICS:
            vals = [r[m] for r in subset if m in r]
            if vals:
                out[m] = round(sum(vals) / len(vals), 4)
        for m in LLM_METRICS:
            vals = [r[m] for r in subset if m in r]
            if vals:
                out[m] = round(statistics.median(vals) if m.endswith("_s") else sum(vals) / len(vals), 4)
        out["n"] = len(subset)
        return out

    by_type: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_type[r["type"]].append(r)
    return {"overall": average(rows), "by_type": {t: average(v) for t, v in sorted(by_type.items())}, "rows": rows}


def _cell(metric: str, figures: dict, width: int) -> str:
    if metric not in figures:
        return f"{'-':>{width}s}"
    return f"{figures[metric]:>{width}.0f}" if metric == "answer_chars" else f"{figures[metric]:>{width}.2f}"


def format_report(report: dict) -> str:
    """A plain table: one line overall, one per question type (each column as wide as its name + 2)."""
    widths = {m: max(7, len(m) + 2) for m in METRICS}
    header = f"{'':14s}" + "".join(f"{m:>{widths[m]}s}" for m in METRICS) + f"{'n':>5s}"
    lines = [header]
    for name, figures in [("overall", report["overall"]), *report["by_type"].items()]:
        cells = "".join(_cell(m, figures, widths[m]) for m in METRICS)
        lines.append(f"{name:14s}{cells}{figures['n']:>5d}")
    llm = report["overall"]
    if any(m in llm for m in LLM_METRICS):
        lines.append("llm: " + "  ".join(f"{m} {llm[m]:.2f}" for m in LLM_METRICS if m in llm)
                     + "  (ttft_s, model_first_s, total_s: medians in seconds)")
    misses = [r["id"] for r in report["rows"] if r.get("hit@1") == 0.0 or r.get("evidence@5") == 0.0
              or r.get("false_refusal") == 1.0 or r.get("refusal") == 0.0]
    if misses:
        lines.append("needs attention: " + ", ".join(str(m) for m in misses))
    return "\n".join(lines)


def load_report(path: Path) -> dict:
    """A report saved with ``rag eval … --json``; unreadable input is a QuestionSetError."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise QuestionSetError(f"无法读取评测结果 {path}：{getattr(exc, 'strerror', None) or exc}") from exc
    if not isinstance(report, dict) or not isinstance(report.get("rows"), list):
        raise QuestionSetError(f"{path} 不是 `rag eval --json` 的输出。")
    return report


def compare_reports(new: dict, old: dict) -> str:
    """Per-question changes from ``old`` to ``new`` (wins first, then losses), then the overall figures."""
    before = {r.get("id"): r for r in old["rows"]}
    wins: list[str] = []
    losses: list[str] = []
    for row in new["rows"]:
        prev = before.get(row.get("id"))
        if prev is None:
            continue
        for m in COMPARED:
            a, b = prev.get(m), row.get(m)
            if a is None or b is None or a == b:
                continue
            a, b = float(a), float(b)
            better = (b < a) if m == "refused" and row.get("refusal") is None else (b > a)
            line = f"  {row.get('id')!s:8s}{m:16s}{a:6.2f} → {b:.2f}"
            (wins if better else losses).append(line)
    lines = [f"better ({len(wins)}):", *wins, f"worse ({len(losses)}):", *losses, "overall:"]
    for m in METRICS:
        a, b = old["overall"].get(m), new["overall"].get(m)
        if a is not None and b is not None and a != b:
            lines.append(f"  {m:16s}{a:8.2f} → {b:.2f}")
    return "\n".join(lines)
