"""The `rag` command: a consumer of the library (imports `rag`'s public names, `ingest` and `api`)."""
