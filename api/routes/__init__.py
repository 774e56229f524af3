"""One small router per feature of the HTTP API."""
