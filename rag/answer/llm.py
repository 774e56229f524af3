"""The LLM client: the official ``openai`` client against any OpenAI-compatible endpoint."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence

import openai

from rag.answer.prompt import build_rewrite_messages
from rag.errors import LLMUnavailableError
from rag.settings import Settings
from rag.types import Degraded, Message

# Local endpoints (llama.cpp, vLLM, Ollama) ignore the key, but the client refuses to start
# without one.
_PLACEHOLDER_KEY = "not-needed"
# A rewritten question is one sentence; a long output is the model answering instead.
_REWRITE_MAX_TOKENS = 200
# Prefixes models put before a rewritten question despite being told not to.
# Labels models put before a rewrite: "改写后的问题：", "好的，改写后的问题是：", "独立问题:", "改写：".
_REWRITE_LABEL = re.compile(
    r"^(?:好的[，,。！!]?\s*)?(?:(?:改写后的|独立的?|完整的?)问题(?:是|为)?\s*[:：]?|(?:问题|改写(?:结果)?|改写为)\s*[:：])\s*"
)
_QUESTION_TAG = re.compile(r"</?\s*question\s*>", re.IGNORECASE)
_QUOTES = "\"'“”‘’「」『』"


def _unavailable(reason: Degraded | str, detail: str) -> LLMUnavailableError:
    """An LLMUnavailableError whose ``.reason`` (also ``args[0]``) says why, as ``Answer.degraded``."""
    return LLMUnavailableError(reason, detail)


def _translate(exc: Exception, *, streaming: bool = False) -> LLMUnavailableError:
    """Map an openai/transport exception to our error with a short reason.

    ``streaming`` means the response had already started: a lost connection then is a
    broken stream rather than an unreachable endpoint.
    """
    if isinstance(exc, openai.APITimeoutError):
        return _unavailable(Degraded.TIMEOUT, str(exc))
    if isinstance(exc, openai.APIConnectionError):
        return _unavailable(Degraded.STREAM_BROKEN if streaming else Degraded.CONNECTION, str(exc))
    if isinstance(exc, openai.RateLimitError):
        return _unavailable(Degraded.RATE_LIMITED, str(exc))
    if isinstance(exc, openai.APIStatusError):
        return _unavailable(Degraded.http(exc.status_code), str(exc))
    if streaming:
        # An error event inside the stream, or a chunk that is not JSON.
        return _unavailable(Degraded.STREAM_BROKEN, str(exc))
    return _unavailable(Degraded.API_ERROR, str(exc))


def _bad_reply(exc: Exception) -> LLMUnavailableError:
    """A reply that is not a chat completion, whatever the client raised while reading it."""
    return _unavailable(Degraded.BAD_REPLY, f"not a chat completion: {type(exc).__name__}: {exc}")


class _Deltas(Iterator[str]):
    """The delta iterator returned by ``LLMClient.stream``; ``close()`` works before iteration too."""

    def __init__(self, deltas: Iterator[str], response: openai.Stream) -> None:
        self._deltas = deltas
        self._response = response

    def __next__(self) -> str:
        return next(self._deltas)

    def close(self) -> None:
        """Stop early and release the connection."""
        self._deltas.close()  # type: ignore[attr-defined]
        self._response.close()


class LLMClient:
    """Chat completions for answers and rewrites; every failure becomes LLMUnavailableError.

    The openai client is built on first use (so constructing an LLMClient never touches the
    network or fails) and then reused: it keeps a connection pool.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> openai.OpenAI:
        """The underlying ``openai.OpenAI`` client, created once."""
        with self._lock:
            if self._client is None:
                key = self.settings.openai_api_key
                self._client = openai.OpenAI(
                    base_url=self.settings.openai_base_url,
                    api_key=key.get_secret_value() if key else _PLACEHOLDER_KEY,
                    timeout=self.settings.llm_timeout,
                    # Retrying would multiply the user's wait; the engine falls back instead.
                    max_retries=0,
                )
            return self._client

    def close(self) -> None:
        """Release the connection pool (the client is rebuilt if used again)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _params(self, messages: Sequence[dict], **overrides: object) -> dict:
        if not self.settings.llm_model:
            raise _unavailable(Degraded.NOT_CONFIGURED, "RAG_LLM_MODEL is not set")
        params: dict = {
            "model": self.settings.llm_model,
            "messages": list(messages),
            "max_tokens": self.settings.llm_max_tokens,
            "temperature": self.settings.llm_temperature,
        }
        params.update(overrides)
        return params

    def complete(self, messages: Sequence[dict], **overrides: object) -> str:
        """The full reply to ``messages`` (non-streaming); raises LLMUnavailableError."""
        params = self._params(messages, **overrides)
        try:
            response = self.client.chat.completions.create(**params)
            # A 200 whose body is not a chat completion (HTML, a JSON list, truncated JSON) comes
            # back as a str or an unvalidated object: reading it raises anything at all.
            choice = response.choices[0] if response.choices else None
            content = choice.message.content if choice else None
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        except Exception as exc:
            raise _bad_reply(exc) from exc
        if content is not None and not isinstance(content, str):
            raise _unavailable(Degraded.BAD_REPLY, f"message content is {type(content).__name__}, not text")
        text = (content or "").strip()
        if not text:
            raise _unavailable(Degraded.EMPTY, "the model returned no text")
        return text

    def stream(self, messages: Sequence[dict]) -> Iterator[str]:
        """Text deltas of the reply to ``messages``.

        The request is sent before this returns, so an unreachable endpoint, a timeout before
        the first byte or an HTTP error raises here, before anything was shown. A failure
        while iterating (connection lost, stall longer than the timeout, no ``finish_reason``,
        no text at all) raises LLMUnavailableError from the iterator. Iterate it to the end or
        ``close()`` it (also before the first delta): either releases the HTTP response.
        """
        params = self._params(messages, stream=True)
        try:
            response = self.client.chat.completions.create(**params)
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        except Exception as exc:
            raise _bad_reply(exc) from exc
        if not isinstance(response, openai.Stream):
            # A plain JSON or HTML body where an event stream was asked for.
            raise _unavailable(Degraded.BAD_REPLY, f"expected an event stream, got {type(response).__name__}")
        return _Deltas(self._deltas(response), response)

    def _deltas(self, response: openai.Stream) -> Iterator[str]:
        # Each chunk carries at least one token, plus role/finish/usage chunks: a stream longer
        # than this is not a model answering within max_tokens.
        max_chunks = 2 * self.settings.llm_max_tokens + 64
        finished = False
        produced = False
        try:
            for i, chunk in enumerate(response):
                if i >= max_chunks:
                    raise _unavailable(Degraded.STREAM_BROKEN, "stream exceeded its token budget")
                for choice in chunk.choices:
                    content = choice.delta.content if choice.delta is not None else None
                    if content is not None and not isinstance(content, str):
                        raise _unavailable(Degraded.STREAM_BROKEN, f"delta content is {type(content).__name__}, not text")
                    if content:
                        produced = produced or bool(content.strip())
                        yield content
                    if choice.finish_reason is not None:
                        finished = True
        except LLMUnavailableError:
            raise
        except openai.OpenAIError as exc:
            raise _translate(exc, streaming=True) from exc
        except Exception as exc:
            # A chunk that is not JSON or not a chat chunk: ValueError, TypeError, AttributeError...
            raise _unavailable(Degraded.STREAM_BROKEN, f"malformed stream chunk: {type(exc).__name__}: {exc}") from exc
        finally:
            response.close()
        if not finished:
            raise _unavailable(Degraded.STREAM_BROKEN, "stream ended without finish_reason")
        if not produced:
            raise _unavailable(Degraded.EMPTY, "the model returned no text")

    def rewrite(self, question: str, history: Sequence[Message]) -> str:
        """``question`` rewritten into a standalone question using ``history``."""
        text = self.complete(
            build_rewrite_messages(question, history),
            max_tokens=min(_REWRITE_MAX_TOKENS, self.settings.llm_max_tokens),
            temperature=0.0,
        )
        # The first line left after removing echoed delimiters (<question> on a line of its
        # own), a label ("改写后的问题：") and quotes.
        line = next(filter(None, (_clean_rewrite_line(ln) for ln in text.splitlines())), "")
        if not line:
            raise _unavailable(Degraded.EMPTY, "the rewrite was empty")
        return line


def _clean_rewrite_line(line: str) -> str:
    line = _QUESTION_TAG.sub("", line).strip()
    return _REWRITE_LABEL.sub("", line, count=1).strip().strip(_QUOTES).strip()
