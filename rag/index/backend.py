"""Choosing the backend: the local files or Milvus, for reading a version and for building one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rag.calibrate import Manifest
from rag.errors import IndexCorruptError
from rag.index.base import IndexBuilder, SearchIndex
from rag.index.local import LocalBuilder, LocalSearch
from rag.settings import Settings


def _token(settings: Settings | None) -> str | None:
    return settings.milvus_token.get_secret_value() if settings and settings.milvus_token else None


def milvus_uri(settings: Settings | None, manifest: Manifest) -> str:
    """The configured Milvus when the settings say milvus, else the one the version was built on."""
    if settings is not None and settings.index_backend == "milvus":
        return settings.milvus_uri
    return str(manifest.backend.get("uri", ""))


def open_search(path: Path, manifest: Manifest, rows_of: Callable[[str], Sequence[int]] | None,
                settings: Settings | None = None) -> SearchIndex:
    """The search structures of the version at ``path``, on the backend its manifest names
    (``rows_of``: an article's rows, from the version's document store, for deleting it)."""
    kind = manifest.backend_kind
    if kind == "local":
        return LocalSearch.load(path, rows_of)
    if kind == "milvus":
        from rag.index.milvus import MilvusSearch

        return MilvusSearch.open(path, manifest.backend, milvus_uri(settings, manifest), _token(settings),
                                 timeout=settings.milvus_timeout if settings else None)
    raise IndexCorruptError(f"索引版本 {path.name} 的后端 {kind!r} 未知。请重新运行 `rag ingest` 重建索引。")


def backend_signature(settings: Settings) -> str:
    """What the signature of a build records about the backend (switching it forces a rebuild)."""
    if settings.index_backend == "milvus":
        return f"milvus:{settings.milvus_uri}:{settings.milvus_collection}"
    return f"local:dense_exact_max={settings.dense_exact_max}"


def new_builder(settings: Settings, version: str, dim: int, lexical: Sequence[str]) -> IndexBuilder:
    """A builder for the version ``version`` on the configured backend."""
    if settings.index_backend == "milvus":
        from rag.index.milvus import MilvusBuilder, collection_name, connect

        return MilvusBuilder(connect(settings.milvus_uri, _token(settings)),
                             collection_name(settings.milvus_collection, version), dim, lexical, settings.milvus_uri)
    # Scratch files beside the versions: the next ingest removes what a killed build left (.tmp-*).
    return LocalBuilder(dim, approximate_above=settings.dense_exact_max, scratch=settings.index_dir / "versions")


def drop_unused_collections(settings: Settings, manifests: Iterable[Manifest]) -> list[str]:
    """On Milvus: drop this index's collections no kept version uses (pruned versions, dead builds)."""
    if settings.index_backend != "milvus":
        return []
    from rag.index.milvus import connect, drop_unused

    keep = {str(m.backend.get("collection")) for m in manifests if m.backend_kind == "milvus"}
    return drop_unused(connect(settings.milvus_uri, _token(settings)), settings.milvus_collection, keep)
