"""Liveness without a token (load balancers and Prometheus need no credentials)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from watchkeeper.api.deps import StateDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(st: StateDep) -> dict[str, Any]:
    with st.store.session(read_only=True) as s:
        s.execute(text("SELECT 1"))
    return {"status": "ok", "database": st.store.dialect, "auth": st.auth_enabled}
