"""One onnxruntime encode of the e5 graph at several row counts, one thread: what batching the
concurrent questions' encodes could save (a question is ~20 rows; 160 rows ≈ 8 questions).

    python bench/onnx_rows.py                  # the default (mixed) graph from the cache
    python bench/onnx_rows.py --kind int8
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", default="mixed", choices=("mixed", "q4", "int8", "fp32"))
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    from rag.e5onnx import OnnxE5
    from rag.e5torch import bundled_model_path

    session = OnnxE5(bundled_model_path(), args.kind, threads=1)._session
    rng = np.random.default_rng(0)
    for rows in (20, 40, 80, 160, 320):
        words = (rng.standard_normal((rows, 384)) * 0.05).astype(np.float32)
        for _ in range(5):
            session.run(None, {"words": words})
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            session.run(None, {"words": words})
            times.append(time.perf_counter() - start)
        ms = statistics.median(times) * 1000
        print(f"{rows:4d} rows: {ms:7.2f} ms, {ms * 20 / rows:5.2f} ms per 20 rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
