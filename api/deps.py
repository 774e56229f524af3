"""``Annotated`` dependency aliases: settings, the current engine, metrics, admin access."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.errors import ApiError
from api.indexing import Indexing
from api.metrics import Metrics
from api.security import require_admin
from rag import Engine, Message, Settings

# The dependencies are ``async`` on purpose: trivial sync ones would each cost a threadpool hop.


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    """The engine serving now; a request keeps this reference even if a reload swaps in another."""
    engine = request.app.state.engine
    if engine is None:
        # A failed load does not fix itself: say why, and do not invite retries.
        if request.app.state.load_error is not None:
            raise request.app.state.load_error
        raise ApiError(503, "not_ready", "服务正在加载索引，请稍后再试。", {"Retry-After": "1"})
    return engine


async def get_indexing(request: Request) -> Indexing:
    """The corpus folder and indexing jobs of this app."""
    return request.app.state.indexing


async def get_metrics(request: Request) -> Metrics:
    """The app's Prometheus collectors."""
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
IndexingDep = Annotated[Indexing, Depends(get_indexing)]
AdminDep = Depends(require_admin)


def split_conversation(messages: list[tuple[str, str]], settings: Settings) -> tuple[str, list[Message]]:
    """Split ``(role, content)`` turns into the question (the last user message) and the history before it.

    Chat clients send the whole conversation every turn; only the most recent
    ``max_history_messages`` are used (the engine looks at fewer still), so a long
    conversation keeps working instead of failing from its 11th turn on.
    """
    messages = messages[-settings.max_history_messages :]
    turns = [(role, content) for role, content in messages if role in ("user", "assistant", "system")]
    if not turns or turns[-1][0] != "user":
        raise ApiError(400, "last_message_not_user", "最后一条消息必须是用户的提问。")
    # The engine validates the question itself (rag.validation), before a stream starts.
    question = turns[-1][1]
    history = [Message(role=role, content=content) for role, content in turns[:-1]]
    return question, history
