"""Domain errors raised by the library; the API and CLI map them to user messages.

Every error has a machine ``code`` (a class attribute) and ``params``, the values a message needs
(``QuestionTooLongError(max_chars=2000)``): each edge renders its own Chinese text from one table
keyed by the code (``api/errors.py``, ``cli/messages.py``). The message, when there is one, is the
detail for logs and for the codes an edge has no template for (paths, the command that fixes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from rag.types import Degraded


class RagError(Exception):
    """Base class for every error this library raises on purpose."""

    code: ClassVar[str] = "rag_error"

    def __init__(self, message: str = "", /, *args: object, **params: Any) -> None:
        super().__init__(message or self.code, *args)
        self.params: dict[str, Any] = params


class IndexNotFoundError(RagError):
    """No usable index exists at the configured directory."""

    code = "index_not_found"


class IndexMismatchError(RagError):
    """The index was built with another embedding model than the one configured."""

    code = "index_mismatch"


class EmptyQuestionError(RagError):
    """The question is empty or only whitespace."""

    code = "empty_question"


class InvalidQuestionError(RagError):
    """The question contains characters that are not text (e.g. a lone surrogate)."""

    code = "invalid_question"


class QuestionTooLongError(RagError):
    """The question exceeds the configured maximum length."""

    code = "question_too_long"


class ArticleNotFoundError(RagError):
    """No article has the requested id."""

    code = "article_not_found"


class QuestionSetError(RagError):
    """An evaluation question set cannot be read or parsed."""

    code = "question_set_invalid"


class NothingToIngestError(RagError):
    """The input paths contain no file that could be ingested."""

    code = "nothing_to_ingest"


class EmbedderUnavailableError(RagError):
    """The configured embedding backend cannot be loaded."""

    code = "embedder_unavailable"


class RerankerUnavailableError(RagError):
    """The configured cross-encoder reranker cannot be loaded."""

    code = "reranker_unavailable"


class LLMUnavailableError(RagError):
    """The LLM endpoint failed (timeout, HTTP error, broken stream) or is not configured.

    ``reason`` (also ``args[0]``) is the :class:`rag.types.Degraded` value the answer reports.
    """

    code = "llm_unavailable"

    def __init__(self, reason: Degraded | str, detail: str = "") -> None:
        super().__init__(str(reason), detail)
        self.reason: Degraded | str = reason


class IndexCorruptError(RagError):
    """The current index version is damaged (a file missing, truncated or altered); `rag ingest` rebuilds it."""

    code = "index_corrupt"


class IndexUnavailableError(RagError):
    """The index's engine (a Milvus server) did not answer; the request may succeed later."""

    code = "index_unavailable"


class ModelNotInstalledError(RagError):
    """The local GGUF model is missing, incomplete or not a GGUF file; the message names the fix."""

    code = "model_not_installed"


class ModelInstallError(RagError):
    """A packaged model could not be downloaded, joined or verified."""

    code = "model_install_failed"
