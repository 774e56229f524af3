"""The on-disk index: a versioned directory holding the dense, lexical and document stores."""

from rag.index.store import LoadedIndex, VersionWriter, current_version, open_index

__all__ = ["LoadedIndex", "VersionWriter", "current_version", "open_index"]
