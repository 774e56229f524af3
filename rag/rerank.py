"""Optional cross-encoder reranking of the fused candidates (off unless RAG_RERANKER_MODEL is set)."""

from __future__ import annotations

from rag.index.store import LoadedIndex


class CrossEncoderReranker:
    """Re-scores the head of the fused ranking with a sentence-transformers CrossEncoder."""

    def __init__(self, model: str, depth: int = 20):
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(model, device="cpu")
        self._depth = depth

    def rerank(self, query: str, ranked: list[tuple[int, float]], index: LoadedIndex) -> list[tuple[int, float]]:
        head, tail = ranked[: self._depth], ranked[self._depth :]
        if not head:
            return ranked
        scores = self._model.predict([(query, index.chunks[r].text) for r, _ in head])
        order = sorted(zip(head, scores, strict=True), key=lambda x: -float(x[1]))
        return [(r, float(s)) for (r, _), s in order] + tail
