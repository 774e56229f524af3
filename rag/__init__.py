"""Question answering over Chinese articles about 产业互联网: hybrid retrieval, cited answers."""

from rag.engine import ArticleView, Engine
from rag.errors import (
    ArticleNotFoundError,
    EmbedderUnavailableError,
    EmptyQuestionError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    LLMUnavailableError,
    NothingToIngestError,
    QuestionTooLongError,
    RagError,
)
from rag.settings import Settings
from rag.types import Answer, ArticleMeta, Chunk, Citation, Delta, Done, Hit, Message, Retrieved, StreamEvent

__all__ = [
    "Answer", "ArticleMeta", "ArticleNotFoundError", "ArticleView", "Chunk", "Citation", "Delta", "Done",
    "EmbedderUnavailableError", "EmptyQuestionError", "Engine", "Hit", "IndexCorruptError", "IndexMismatchError", "IndexNotFoundError",
    "LLMUnavailableError", "Message", "NothingToIngestError", "QuestionTooLongError", "RagError", "Retrieved",
    "Settings", "StreamEvent",
]
