"""Question answering over Chinese articles about 产业互联网: hybrid retrieval, cited answers.

The public surface: the API, the CLI and tests import these names from ``rag``. Batch tools with
heavier imports stay in their modules (``rag.evaluate``, ``rag.models``).
"""

from rag.answer.citations import source_lines, strip_markers
from rag.controls import escape_bidi, strip_controls
from rag.engine import ArticleView, Engine
from rag.errors import (
    ArticleNotFoundError,
    EmbedderUnavailableError,
    EmptyQuestionError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexUnavailableError,
    InvalidQuestionError,
    LLMUnavailableError,
    ModelInstallError,
    ModelNotInstalledError,
    NothingToIngestError,
    QuestionSetError,
    QuestionTooLongError,
    RagError,
    RerankerUnavailableError,
)
from rag.qlog import QuestionLog
from rag.settings import Settings
from rag.types import (
    Answer,
    ArticleMeta,
    Chunk,
    Citation,
    Degraded,
    Delta,
    Done,
    Hit,
    Message,
    Mode,
    Retrieved,
    StreamEvent,
)

__all__ = [
    "Answer", "ArticleMeta", "ArticleNotFoundError", "ArticleView", "Chunk", "Citation", "Degraded", "Delta", "Done",
    "EmbedderUnavailableError", "EmptyQuestionError", "Engine", "Hit", "IndexCorruptError", "IndexMismatchError",
    "IndexNotFoundError", "IndexUnavailableError", "InvalidQuestionError", "LLMUnavailableError", "Message", "Mode", "ModelInstallError",
    "ModelNotInstalledError", "NothingToIngestError", "QuestionLog", "QuestionSetError", "QuestionTooLongError",
    "RagError", "RerankerUnavailableError", "Retrieved", "Settings", "StreamEvent", "escape_bidi", "source_lines",
    "strip_controls", "strip_markers",
]
