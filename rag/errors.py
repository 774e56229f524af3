"""Domain errors raised by the library; the API and CLI map them to user messages."""


class RagError(Exception):
    """Base class for every error this library raises on purpose."""


class IndexNotFoundError(RagError):
    """No usable index exists at the configured directory."""


class IndexMismatchError(RagError):
    """The index was built with another embedding model than the one configured."""


class EmptyQuestionError(RagError):
    """The question is empty or only whitespace."""


class InvalidQuestionError(RagError):
    """The question contains characters that are not text (e.g. a lone surrogate)."""


class QuestionTooLongError(RagError):
    """The question exceeds the configured maximum length."""


class ArticleNotFoundError(RagError):
    """No article has the requested id."""


class QuestionSetError(RagError):
    """An evaluation question set cannot be read or parsed."""


class NothingToIngestError(RagError):
    """The input paths contain no file that could be ingested."""


class EmbedderUnavailableError(RagError):
    """The configured embedding backend cannot be loaded."""


class RerankerUnavailableError(RagError):
    """The configured cross-encoder reranker cannot be loaded."""


class LLMUnavailableError(RagError):
    """The LLM endpoint failed (timeout, HTTP error, broken stream) or is not configured."""


class IndexCorruptError(RagError):
    """The current index version is damaged (a file missing, truncated or altered); `rag ingest` rebuilds it."""


class ModelNotInstalledError(RagError):
    """The local GGUF model is missing, incomplete or not a GGUF file; the message names the fix."""


class ModelInstallError(RagError):
    """A packaged model could not be downloaded, joined or verified."""
