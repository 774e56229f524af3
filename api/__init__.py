"""The HTTP API: a thin FastAPI layer over ``rag.Engine`` (see ``api.app.create_app``)."""
