"""Ingest: article files → cleaned, attributed articles → chunks → a versioned index on disk."""
