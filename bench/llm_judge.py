"""Can the local model pick the answering sentence better than the reader? (issue 13, session 20)

For each answerable question of the sets given, the reader's top ``--top`` candidate sentences are
shown to the local model, which either names the best one (``--mode list``: one prompt, the first
token's log-probabilities over the numbers) or judges each (``--mode point``: 「是」 against 「否」).
Printed: the mean key-point recall of the reader's best sentence, of the model's choice and of the
best candidate (the oracle), and the seconds and prompt tokens per question.

    RAG_LLM_BACKEND=local python bench/llm_judge.py --index /tmp/ix18 ../shared/eval/dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

from rag.answer import reader as R
from rag.engine import Engine
from rag.evaluate import point_recall
from rag.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--index", required=True)
    ap.add_argument("--mode", choices=("list", "point"), default="list")
    ap.add_argument("--top", type=int, default=6)
    args = ap.parse_args()
    engine = Engine.open(Settings(index_dir=args.index, llm_backend="local"))
    client = engine.llm.client  # the local server's OpenAI client
    seen: dict = {}
    read = R.Reader.read

    def capture(self, question, hits, *a, **k):
        reading = read(self, question, hits, *a, **k)
        seen.update(reading=reading, cands=R.candidates([h.chunk.text for h in hits], [h.chunk.heading for h in hits]))
        return reading

    R.Reader.read = capture

    def first_token(messages: list[dict]) -> tuple[dict[str, float], int]:
        reply = client.chat.completions.create(model="local", messages=messages, max_tokens=1, logprobs=True,
                                               top_logprobs=10, temperature=0)
        top = reply.choices[0].logprobs.content[0].top_logprobs
        return {t.token.strip(): t.logprob for t in top}, reply.usage.prompt_tokens

    rows = []
    for path in args.sets:
        for line in open(path, encoding="utf-8"):
            item = json.loads(line)
            if item.get("expected") == "none" or not item.get("answer_points"):
                continue
            seen.clear()
            answer = engine.ask(item["question"], mode="retrieval")
            if "reading" not in seen or answer.refused:
                continue
            scores = seen["reading"].scores
            cands = sorted(seen["cands"], key=lambda c: -scores.get((c.hit, c.pos), -99))[: args.top]
            points = item["answer_points"]
            value = [sum(point_recall(p, c.text) for p in points) / len(points) for c in cands]
            t0, tokens = time.perf_counter(), 0
            if args.mode == "list":
                listed = "\n".join(f"{i + 1}. {c.text[:120]}" for i, c in enumerate(cands))
                logp, tokens = first_token([
                    {"role": "system", "content": "你是阅读理解助手。"},
                    {"role": "user", "content": f"问题：{answer.query}\n\n候选句子：\n{listed}\n\n哪一句最直接地回答了问题？只回答一个编号。"}])
                judged = [logp.get(str(i + 1), -20.0) for i in range(len(cands))]
            else:
                judged = []
                for c in cands:
                    logp, n = first_token([
                        {"role": "system", "content": "你是阅读理解助手。判断句子是否回答了问题。"},
                        {"role": "user", "content": f"问题：{answer.query}\n句子：{c.text[:150]}\n这句话是否直接回答了问题？只回答“是”或“否”。"}])
                    judged.append(math.log(math.exp(logp.get("是", -20)) + 1e-9) - math.log(math.exp(logp.get("否", -20)) + 1e-9))
                    tokens += n
            pick = max(range(len(cands)), key=judged.__getitem__)
            rows.append({"reader": value[0], "model": value[pick], "oracle": max(value),
                         "seconds": time.perf_counter() - t0, "tokens": tokens})
    for key in ("reader", "model", "oracle", "seconds", "tokens"):
        print(f"{key:8s} {statistics.mean(r[key] for r in rows):.3f}")
    print(f"questions {len(rows)}")


if __name__ == "__main__":
    main()
