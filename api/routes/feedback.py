"""``POST /api/feedback`` (👍/👎 on an answer) and the admin view of the question log."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import AdminDep
from api.errors import ApiError
from api.schemas import ErrorResponse, Text
from api.schemas_admin import DailyResponse, FeedbackResponse, QuestionsResponse
from rag import Answer, QuestionLog

log = logging.getLogger(__name__)
router = APIRouter(tags=["feedback"])
admin_router = APIRouter(prefix="/api/admin", tags=["feedback"], dependencies=[AdminDep],
                         responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}})


def record_answer(request: Request, question: str, answer: Answer, route: str) -> str | None:
    """Log an answered question (queued: the log writes it in a thread of its own); the id for feedback,
    or None when the log is off or failing.

    A broken log database never costs the user the answer.
    """
    qlog: QuestionLog | None = request.app.state.qlog
    if qlog is None:
        return None
    try:
        return qlog.record(question, answer, route)
    except Exception:
        log.exception("cannot record the question in the question log")
        return None


class FeedbackRequest(BaseModel):
    """👍 or 👎 on one answer, with an optional short comment."""

    feedback_id: str = Field(max_length=64, description="The answer's feedback_id.", examples=["9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d"])
    rating: Literal["up", "down"] = Field(description="up = 👍, down = 👎.", examples=["down"])
    comment: Text | None = Field(None, max_length=500, description="Optional short comment.", examples=["引用的段落不相关"])


@router.post("/api/feedback", response_model=FeedbackResponse, summary="Rate an answer 👍/👎",
             responses={400: {"model": ErrorResponse}, 404: {"model": ErrorResponse}, 401: {"model": ErrorResponse},
                        429: {"model": ErrorResponse}})
def feedback(body: FeedbackRequest, request: Request) -> dict:
    """Store the rating (a later one replaces it); 404 when the answer is unknown or the log is off."""
    qlog: QuestionLog | None = request.app.state.qlog
    if qlog is None:
        raise ApiError(404, "feedback_off", "本服务未开启反馈记录。")
    if not qlog.feedback(body.feedback_id, body.rating == "up", body.comment):
        raise ApiError(404, "answer_not_found", "找不到这条回答，可能已过期。")
    return {"ok": True}


def _qlog(request: Request) -> QuestionLog:
    qlog = request.app.state.qlog
    if qlog is None:
        raise ApiError(404, "question_log_off", "问题记录未开启（RAG_QUESTION_LOG=false）。")
    return qlog


@admin_router.get("/questions", response_model=QuestionsResponse, summary="Recent questions")
def questions(request: Request, limit: int = Query(50, ge=1, le=500),
              refused: bool | None = Query(None, description="Only refusals (true) or only answered (false)."),
              rating: Literal["up", "down"] | None = Query(None, description="Only 👍 or only 👎.")) -> dict:
    return {"questions": [q.to_dict() for q in _qlog(request).recent(limit, refused, rating)]}


@admin_router.get("/questions/daily", response_model=DailyResponse, summary="Questions per day")
def daily(request: Request, days: int = Query(14, ge=1, le=366)) -> dict:
    return {"days": _qlog(request).daily(days)}
