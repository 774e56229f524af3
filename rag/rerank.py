"""Optional cross-encoder reranking of the fused candidates (off unless RAG_RERANKER_MODEL is set)."""

from __future__ import annotations

from rag.errors import RerankerUnavailableError
from rag.index.store import LoadedIndex


class CrossEncoderReranker:
    """Re-scores the head of the fused ranking with a sentence-transformers CrossEncoder.

    The head's scores become the model's (the fused scores are not mixed in: a cross-encoder
    reads question and passage together, which is what fusion cannot do); the tail keeps its
    fused order below the head.
    """

    def __init__(self, model: str, depth: int = 20):
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RerankerUnavailableError(
                "RAG_RERANKER_MODEL needs sentence-transformers: pip install 'rag-zh[st]'"
            ) from exc
        try:
            self._model = CrossEncoder(model, device="cpu")
        except Exception as exc:
            raise RerankerUnavailableError(f"Cannot load the cross-encoder RAG_RERANKER_MODEL={model!r}: {exc}") from exc
        self._depth = depth

    def rerank(self, query: str, ranked: list[tuple[int, float]], index: LoadedIndex) -> list[tuple[int, float]]:
        head, tail = ranked[: self._depth], ranked[self._depth :]
        if not head:
            return ranked
        scores = self._model.predict([(query, index.chunks[r].text) for r, _ in head])
        order = sorted(zip(head, scores, strict=True), key=lambda x: -float(x[1]))
        return [(r, float(s)) for (r, _), s in order] + tail
