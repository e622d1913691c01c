"""/v1/audit: read the trail and verify its chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from watchkeeper import audit
from watchkeeper.api.deps import PrincipalDep, SessionDep, StateDep, allow
from watchkeeper.engine.access import Permission

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("")
def entries(db: SessionDep, who: PrincipalDep, st: StateDep, subject: str | None = None,
            action: str | None = None,
            limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> list[dict[str, Any]]:
    allow(st, who, Permission.READ, None, "audit.read")
    return [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
             "subject": e.subject, "details": e.details, "hash": e.hash}
            for e in audit.list_entries(db, subject=subject, action=action, limit=limit)]


@router.get("/verify")
def verify(db: SessionDep, who: PrincipalDep, st: StateDep) -> dict[str, Any]:
    allow(st, who, Permission.READ, None, "audit.verify")
    result = audit.verify(db)
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
            "reason": result.reason}
