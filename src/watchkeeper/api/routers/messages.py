"""Escalation over HTTP: an incident's external message drafts, approving one, and
"escalate now".

Registered before the incidents router: its /incidents/{id}/{verb} route would otherwise take
/incidents/{id}/escalate and refuse the verb.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from watchkeeper.api.deps import (
    AppState,
    PrincipalDep,
    StateDep,
    allow,
    allow_incident,
    guarded,
    policy_of,
)
from watchkeeper.core.errors import NotFoundError
from watchkeeper.engine.access import Permission
from watchkeeper.escalation import EscalationConfig, approve_message, list_messages, timings
from watchkeeper.escalation.service import escalate_now
from watchkeeper.incidents import service as incidents
from watchkeeper.mitigation.authority import roles_held
from watchkeeper.store.tables.escalation import MessageRow

router = APIRouter(prefix="/v1", tags=["escalation"])

# Lookups for authorisation read without the SQLite write lock, and the change runs in its own
# session after `allow`: an audited refusal writes in a transaction of its own, which would
# otherwise wait on the request's.


def _message_model(st: AppState, message_id: str) -> str:
    with st.store.session(read_only=True) as s:
        msg = s.get(MessageRow, message_id)
        if msg is None:
            raise NotFoundError(f"no message {message_id!r}")
        return incidents.get(s, msg.incident_id).model


class EscalateBody(BaseModel):
    rationale: str = Field("", max_length=5000)


@router.get("/incidents/{incident_id}/messages")
def messages(incident_id: str, who: PrincipalDep, st: StateDep,
             status: str | None = None) -> dict[str, Any]:
    """External message drafts (and what became of them), with the escalation timings."""
    allow_incident(st, who, Permission.READ, incident_id, "messages.read")
    with st.store.session(read_only=True) as db:
        return {"incident_id": incident_id, "messages": list_messages(db, incident_id, status),
                "timings": timings(db, incident_id)}


@router.post("/messages/{message_id}/approve")
def approve(message_id: str, who: PrincipalDep, st: StateDep) -> dict[str, Any]:
    """Approve an external message draft; it is queued to its channels. Needs approve rights
    and one of the policy's approver roles (a token role counts as one)."""
    model = _message_model(st, message_id)
    allow(st, who, Permission.APPROVE, model, "message.approve")
    policy = policy_of(st)
    held = {who.role.value, *roles_held(policy, who.name, model)}
    allowed = EscalationConfig.from_policy(policy).messages.approver_roles
    queued = guarded(st, who.name, model, "message.approve", lambda db: approve_message(
        db, message_id, who.name, held, approver_roles=allowed, now=st.clock.now()))
    return {"id": message_id, "status": "queued", "queued": queued, "approved_by": who.name}


@router.post("/incidents/{incident_id}/escalate")
def escalate(incident_id: str, who: PrincipalDep, st: StateDep,
             body: Annotated[EscalateBody | None, Body()] = None) -> dict[str, Any]:
    """Move the incident up one tier now; the next escalation tick pages that tier."""
    allow_incident(st, who, Permission.RESPOND, incident_id, "incident.escalate")
    with st.store.session() as db:
        tier = escalate_now(db, incident_id, actor=who.name, now=st.clock.now(),
                            rationale=(body.rationale if body else ""))
    return {"id": incident_id, "tier": tier.name}
