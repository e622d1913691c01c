"""The full server: the REST API plus the dashboard, in one ASGI app."""

from __future__ import annotations

from fastapi import FastAPI

from watchkeeper.api.app import create_app
from watchkeeper.api.deps import AppState
from watchkeeper.web import pages


def create_server_app(state: AppState) -> FastAPI:
    app = create_app(state)
    app.include_router(pages.router)
    return app
