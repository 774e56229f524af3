"""The on-disk index: versioned directories (documents, manifest) and the search backends behind one interface."""

from rag.index.base import IndexBuilder, Ranked, SearchIndex
from rag.index.store import LoadedIndex, VersionWriter, current_version, open_index

__all__ = ["IndexBuilder", "LoadedIndex", "Ranked", "SearchIndex", "VersionWriter", "current_version", "open_index"]
