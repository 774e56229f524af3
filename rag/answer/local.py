"""The local LLM backend: a GGUF model run by llama.cpp (xllamacpp) inside this process.

xllamacpp's ``Server`` loads the model once and serves llama.cpp's OpenAI-compatible HTTP API on
a free loopback port; ``LocalLLMClient`` is the usual ``LLMClient`` pointed at it, so the prompt,
streaming, timeouts, marker verification and the fallback to retrieval are the same code as for
a remote endpoint. The C++ server runs without the GIL (measured: Python threads keep running
during a completion), so the API stays responsive while the model writes.

Requests share one model instance: ``RAG_LOCAL_PARALLEL`` of them are decoded at once, up to
``RAG_LLM_MAX_WAITING`` more wait for a slot, and any further request is refused at once with
``LLMUnavailableError(reason="busy")``, which the engine turns into a retrieval answer.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.answer.llm import LLMClient, _unavailable
from rag.errors import ModelNotInstalledError, RagError
from rag.models import resolve_model
from rag.settings import Settings

log = logging.getLogger(__name__)

# The model name llama.cpp reports; it serves one model and ignores the name in requests.
LOCAL_MODEL_NAME = "local"
# The compact prompt asks for at most 150 characters (about 150-250 tokens); a small model that
# rambles on would hold the only slot for a minute at 13 tokens/s.
LOCAL_MAX_TOKENS = 320


def _rss_bytes() -> int:
    """Resident memory of this process (Linux), 0 elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass(frozen=True)
class LocalModelInfo:
    """What was loaded, and what it cost."""

    path: str
    threads: int
    gen_threads: int
    parallel: int
    context: int
    load_seconds: float
    memory_bytes: int
    base_url: str

    def to_dict(self) -> dict:
        return {
            "path": self.path, "threads": self.threads, "gen_threads": self.gen_threads, "parallel": self.parallel, "context": self.context,
            "load_seconds": self.load_seconds, "memory_mib": round(self.memory_bytes / 2**20),
            "base_url": self.base_url,
        }


class LocalServer:
    """One GGUF model loaded by xllamacpp and served on ``127.0.0.1:<free port>``; ``close()`` frees it."""

    def __init__(self, path: Path, settings: Settings) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise ModelNotInstalledError(
                "本地模型需要 xllamacpp：pip install -e '.[local]'（scripts/install 会安装它）。"
            ) from exc
        threads = settings.local_threads or os.cpu_count() or 1
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port, reported by listening_address
        params.n_parallel = settings.local_parallel
        # llama.cpp splits n_ctx between the slots: each request gets local_context tokens.
        params.n_ctx = settings.local_context * settings.local_parallel
        # Prompt processing (large matrix products) uses every core; generation, one token at a
        # time with a barrier per operation, uses one by default: with 2 threads on 2 cores shared
        # with another busy process it fell from 8 to 0.6 tokens/s (one thread waits for the
        # other's time slice at every barrier). No busy-polling between operations either.
        params.cpuparams.n_threads = settings.local_gen_threads
        params.cpuparams_batch.n_threads = threads
        params.cpuparams.poll = 0
        params.cpuparams_batch.poll = 0
        # The fixed start of every prompt (system rules and the example) stays in the slot's KV
        # cache; the next request only processes what differs.
        params.cache_prompt = True
        params.endpoint_metrics = True
        # llama.cpp logs every slot event to stderr; keep it for debugging only.
        params.verbosity = 3 if log.isEnabledFor(logging.DEBUG) else 0
        before = _rss_bytes()
        start = time.perf_counter()
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # a corrupt file or too little memory: llama.cpp says which
            raise ModelNotInstalledError(f"无法加载本地模型 {path}：{exc}") from exc
        self.info = LocalModelInfo(
            path=str(path), threads=threads, gen_threads=settings.local_gen_threads, parallel=settings.local_parallel, context=settings.local_context,
            load_seconds=round(time.perf_counter() - start, 2), memory_bytes=max(0, _rss_bytes() - before),
            base_url=self._server.listening_address.rstrip("/") + "/v1",
        )
        log.info("local model %s loaded in %.1f s (%d MiB, %d threads) at %s", path.name, self.info.load_seconds,
                 self.info.memory_bytes >> 20, threads, self.info.base_url)

    @property
    def base_url(self) -> str:
        return self.info.base_url

    def close(self) -> None:
        """Stop serving and free the model (the C++ server stops when its object goes)."""
        self._server = None


class _Gate:
    """Admission control: at most ``capacity`` requests running or waiting; the rest are refused."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.inside = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self.inside >= self.capacity:
                raise _unavailable("busy", f"the local model has {self.inside} requests running or waiting")
            self.inside += 1

    def leave(self) -> None:
        with self._lock:
            self.inside -= 1


class _GatedDeltas(Iterator[str]):
    """A stream that gives its place back when it ends, fails or is closed."""

    def __init__(self, deltas: Iterator[str], gate: _Gate) -> None:
        self._deltas = deltas
        self._gate: _Gate | None = gate

    def _release(self) -> None:
        if self._gate is not None:
            self._gate.leave()
            self._gate = None

    def __next__(self) -> str:
        try:
            return next(self._deltas)
        except BaseException:
            self._release()
            raise

    def close(self) -> None:
        try:
            self._deltas.close()  # type: ignore[attr-defined]
        finally:
            self._release()

    def __del__(self) -> None:
        self._release()


class LocalLLMClient(LLMClient):
    """``LLMClient`` over the in-process llama.cpp server, with a bounded queue.

    Built with ``LocalLLMClient.load(settings)``. When the model cannot be loaded (file missing
    or wrong) the client still exists and every call raises ``LLMUnavailableError`` with reason
    ``model_missing``: the server answers in retrieval mode and ``error`` says how to fix it.
    """

    def __init__(self, settings: Settings, server: LocalServer | None, error: str | None = None) -> None:
        self.server = server
        self.error = error
        url = server.base_url if server is not None else "http://127.0.0.1:9/v1"
        super().__init__(settings.model_copy(update={
            "openai_base_url": url, "openai_api_key": None, "llm_model": LOCAL_MODEL_NAME,
            "llm_max_tokens": min(settings.llm_max_tokens, LOCAL_MAX_TOKENS), "llm_timeout": settings.local_timeout,
        }))
        self.gate = _Gate(settings.local_parallel + settings.llm_max_waiting)

    @classmethod
    def load(cls, settings: Settings) -> LocalLLMClient:
        """Resolve ``RAG_LOCAL_MODEL`` and load it; a missing or broken model is logged, not raised."""
        try:
            server = LocalServer(resolve_model(settings.local_model, settings.models_dir), settings)
        except RagError as exc:
            log.error("local model unavailable, answering in retrieval mode: %s", exc)
            return cls(settings, None, str(exc))
        return cls(settings, server)

    def _check(self) -> None:
        if self.server is None:
            raise _unavailable("model_missing", self.error or "the local model is not loaded")

    def complete(self, messages: Sequence[dict], **overrides: object) -> str:
        self._check()
        self.gate.enter()
        try:
            return super().complete(messages, **overrides)
        finally:
            self.gate.leave()

    def stream(self, messages: Sequence[dict]) -> Iterator[str]:
        self._check()
        self.gate.enter()
        try:
            deltas = super().stream(messages)
        except BaseException:
            self.gate.leave()
            raise
        return _GatedDeltas(deltas, self.gate)

    def close(self) -> None:
        super().close()
        if self.server is not None:
            self.server.close()

    def stats(self) -> dict:
        """Model, threads, memory and queue, for /api/admin/stats."""
        info = self.server.info.to_dict() if self.server is not None else {"error": self.error}
        return {**info, "running_or_waiting": self.gate.inside, "capacity": self.gate.capacity}
