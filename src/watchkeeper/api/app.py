"""The FastAPI application: assembles routers, errors and state. No logic lives here."""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from sqlalchemy.orm import configure_mappers

from watchkeeper.api import problems
from watchkeeper.api.deps import AppState
from watchkeeper.api.routers import (
    audit,
    health,
    incidents,
    ingest,
    messages,
    mitigation,
    model_health,
    models,
    policy,
)


def create_app(state: AppState) -> FastAPI:
    app = FastAPI(
        title="watchkeeper",
        version="0.1.0",
        description="Keeps production ML models healthy. Errors are RFC 9457 problem details.",
    )
    if not state.session_secret:
        state.session_secret = secrets.token_urlsafe(32)
    app.state.wk = state
    problems.install(app)
    # messages before incidents: its /incidents/{id}/escalate precedes /incidents/{id}/{verb}
    for module in (health, messages, incidents, models, model_health, ingest, policy,
                   mitigation, audit):
        app.include_router(module.router)
    # SQLAlchemy sets up every mapped class on the first query (~160 ms here); at start-up,
    # not in the first request someone makes.
    configure_mappers()
    return app
