"""Entry point for uvicorn: ``uvicorn api.main:app --factory`` builds the app from the environment."""

from fastapi import FastAPI

from api.app import create_app, limit_openmp, settings_from_env


def app() -> FastAPI:
    """App factory (called by uvicorn with ``--factory``), so no settings are read at import time."""
    settings = settings_from_env()
    limit_openmp(settings)
    return create_app(settings)
