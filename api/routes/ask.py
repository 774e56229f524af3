"""``POST /api/ask``: one question, one cited answer."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import EngineDep, MetricsDep, SettingsDep
from api.routes.feedback import record_answer
from api.schemas import AnswerOut, AskRequest, ErrorResponse

router = APIRouter(tags=["answers"])


@router.post(
    "/api/ask",
    response_model=AnswerOut,
    responses={400: {"model": ErrorResponse}, 401: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
    summary="Answer a question with citations",
)
def ask(body: AskRequest, engine: EngineDep, settings: SettingsDep, metrics: MetricsDep, request: Request) -> dict:
    """Answer one question from the articles (sync: runs in the threadpool, the work is CPU-bound)."""
    question = body.question
    answer = engine.ask(question, mode=body.mode or settings.mode, top_k=body.top_k)
    metrics.observe_answer(answer)
    return {**answer.to_dict(), "feedback_id": record_answer(request, question, answer, "ask")}
