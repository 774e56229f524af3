"""``GET /api/articles`` and ``GET /api/articles/{article_id}``: metadata, text and passage offsets."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.schemas import ArticleResponse, ArticlesResponse, ErrorResponse

router = APIRouter(tags=["articles"])


@router.get("/api/articles", response_model=ArticlesResponse, summary="List articles")
def list_articles(engine: EngineDep) -> dict:
    """Metadata of every article in the index."""
    return {"articles": [meta.to_dict() for meta in engine.articles()]}


@router.get(
    "/api/articles/{article_id}",
    response_model=ArticleResponse,
    responses={404: {"model": ErrorResponse}},
    summary="One article with its passages",
)
def get_article(article_id: str, engine: EngineDep) -> dict:
    """Metadata, cleaned text and passage offsets, so a citation can be highlighted in place."""
    view = engine.article(article_id)
    return {
        "article": view.meta.to_dict(),
        "text": view.text,
        "chunks": [{"chunk_id": c.chunk_id, "start": c.start, "end": c.end, "heading": c.heading} for c in view.chunks],
    }
