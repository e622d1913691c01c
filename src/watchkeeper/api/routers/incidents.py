"""/v1/incidents, /v1/silences, /v1/alerts/alertmanager and /v1/reports/timings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from watchkeeper.api.deps import PrincipalDep, SessionDep, StateDep, allow, allow_incident
from watchkeeper.core.enums import IncidentState, Tier
from watchkeeper.engine.access import Permission
from watchkeeper.incidents import evidence, service
from watchkeeper.incidents.lifecycle import ACTIVE

router = APIRouter(prefix="/v1", tags=["incidents"])

TierText = Annotated[str, Field(pattern=r"^T[0-3]$", examples=["T2"])]


class OpenIncidentBody(BaseModel):
    model: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=500)
    tier: TierText = "T2"
    rationale: str = Field("", max_length=5000)


class TransitionBody(BaseModel):
    rationale: str = Field("", max_length=5000)
    reason: Literal["false_positive", "not_actionable"] | None = None


class CommentBody(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class SilenceBody(BaseModel):
    matchers: list[str] = Field(min_length=1, max_length=50, examples=[["model=credit-risk"]])
    reason: str = Field(min_length=1, max_length=2000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    schedule: list[dict[str, Any]] = Field(default_factory=list, max_length=20)


class PostmortemBody(BaseModel):
    sections: dict[str, str] = Field(default_factory=dict)


class ActionItemBody(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    owner: str = Field(min_length=1, max_length=200)
    due_at: datetime


def _view(row: Any) -> dict[str, Any]:
    t = service.times(row)
    return {**service.as_dict(row), "acknowledged_at": _iso(row.acknowledged_at),
            "acknowledged_by": row.acknowledged_by, "resolved_at": _iso(row.resolved_at),
            "dismiss_reason": row.dismiss_reason, "mttd_s": t.ttd, "mtta_s": t.tta,
            "mttr_s": t.ttr}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@router.get("/incidents")
def list_incidents(
    db: SessionDep, who: PrincipalDep,
    model: str | None = None,
    state: Annotated[list[IncidentState] | None, Query()] = None,
    active: bool = False,
    min_tier: Annotated[str | None, Query(pattern=r"^T[0-3]$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    states = list(ACTIVE) if active else state
    rows = service.list_incidents(db, model=model, states=states, limit=limit,
                                  min_tier=Tier.parse(min_tier) if min_tier else None)
    return [_view(r) for r in rows if who.covers(r.model)]


@router.post("/incidents", status_code=201)
def open_incident(body: OpenIncidentBody, db: SessionDep, who: PrincipalDep,
                  st: StateDep) -> dict[str, Any]:
    allow(st, who, Permission.RESPOND, body.model, "incident.open")
    row = service.open_incident(db, model=body.model, tier=Tier.parse(body.tier),
                                title=body.title, actor=who.name, now=st.clock.now(),
                                rationale=body.rationale)
    return _view(row)


@router.get("/incidents/{incident_id}")
def get_incident(incident_id: str, db: SessionDep, who: PrincipalDep,
                 st: StateDep) -> dict[str, Any]:
    allow_incident(st, who, Permission.READ, incident_id, "incident.read")
    row = service.get(db, incident_id)
    events = [{"at": e.at.isoformat(), "actor": e.actor, "type": e.type, "text": e.text,
               "details": e.details} for e in service.timeline(db, incident_id)]
    return {**_view(row), "timeline": events}


@router.post("/incidents/{incident_id}/comments", status_code=201)
def comment(incident_id: str, body: CommentBody, db: SessionDep, who: PrincipalDep,
            st: StateDep) -> dict[str, Any]:
    allow_incident(st, who, Permission.RESPOND, incident_id, "incident.comment")
    event = service.comment(db, incident_id, actor=who.name, text=body.text, now=st.clock.now())
    return {"at": event.at.isoformat(), "actor": event.actor, "text": event.text}


@router.get("/incidents/{incident_id}/evidence", response_model=None)
def get_evidence(incident_id: str, db: SessionDep, who: PrincipalDep, st: StateDep,
                 format: Literal["json", "html"] = "json") -> dict[str, Any] | HTMLResponse:
    allow_incident(st, who, Permission.READ, incident_id, "incident.evidence")
    pii = list(st.policy.messages.pii_fields) if st.policy is not None else []
    bundle = service.evidence_bundle(db, incident_id, pii_fields=pii)
    return HTMLResponse(evidence.to_html(bundle)) if format == "html" else bundle


@router.get("/incidents/{incident_id}/postmortem")
def get_postmortem(incident_id: str, db: SessionDep, who: PrincipalDep,
                   st: StateDep) -> dict[str, Any]:
    allow_incident(st, who, Permission.READ, incident_id, "postmortem.read")
    pm = service.get_postmortem(db, incident_id)
    items = [{"id": i.id, "text": i.text, "owner": i.owner, "due_at": i.due_at.isoformat(),
              "done_at": _iso(i.done_at)} for i in service.action_items(db, incident_id)]
    return {"status": pm.status, "body": pm.body, "action_items": items}


@router.patch("/incidents/{incident_id}/postmortem")
def edit_postmortem(incident_id: str, body: PostmortemBody, db: SessionDep, who: PrincipalDep,
                    st: StateDep) -> dict[str, Any]:
    allow_incident(st, who, Permission.RESPOND, incident_id, "postmortem.edit")
    pm = service.edit_postmortem(db, incident_id, actor=who.name, now=st.clock.now(),
                                 fields=body.sections)
    return {"status": pm.status, "body": pm.body}


@router.post("/incidents/{incident_id}/postmortem/action-items", status_code=201)
def add_action_item(incident_id: str, body: ActionItemBody, db: SessionDep, who: PrincipalDep,
                    st: StateDep) -> dict[str, Any]:
    allow_incident(st, who, Permission.RESPOND, incident_id, "postmortem.action_item")
    item = service.add_action_item(db, incident_id, text=body.text, owner=body.owner,
                                   due_at=body.due_at, actor=who.name, now=st.clock.now())
    return {"id": item.id, "text": item.text, "owner": item.owner}


@router.post("/incidents/{incident_id}/postmortem/action-items/{item_id}/done")
def complete_action_item(incident_id: str, item_id: int, db: SessionDep, who: PrincipalDep,
                         st: StateDep) -> dict[str, Any]:
    allow_incident(st, who, Permission.RESPOND, incident_id, "postmortem.action_item")
    item = service.complete_action_item(db, item_id, actor=who.name, now=st.clock.now())
    return {"id": item.id, "done_at": _iso(item.done_at)}


# Declared after the other /incidents/{id}/... POST routes, which it would shadow.
_TARGETS = {"acknowledge": IncidentState.ACKNOWLEDGED, "mitigate": IncidentState.MITIGATING,
            "resolve": IncidentState.RESOLVED, "reopen": IncidentState.OPEN,
            "dismiss": IncidentState.DISMISSED, "close": IncidentState.POSTMORTEM_DONE}


@router.post("/incidents/{incident_id}/{verb}")
def move_incident(
    incident_id: str,
    verb: Literal["acknowledge", "mitigate", "resolve", "reopen", "dismiss", "close"],
    db: SessionDep, who: PrincipalDep, st: StateDep,
    body: Annotated[TransitionBody | None, Body()] = None,
) -> dict[str, Any]:
    """Lifecycle: acknowledge, mitigate, resolve, reopen, dismiss (with a reason), close
    (post-mortem done). An illegal move answers 409 naming the legal ones."""
    body = body or TransitionBody()
    allow_incident(st, who, Permission.RESPOND, incident_id, f"incident.{verb}")
    row = service.transition(db, incident_id, _TARGETS[verb], actor=who.name, now=st.clock.now(),
                             rationale=body.rationale, reason=body.reason)
    return _view(row)


@router.get("/silences", tags=["silences"])
def list_silences(db: SessionDep, who: PrincipalDep, st: StateDep,
                  include_expired: bool = False) -> list[dict[str, Any]]:
    now = st.clock.now()
    return [{"id": s.id, "matchers": [str(m) for m in s.matchers], "reason": s.reason,
             "created_by": s.created_by, "starts_at": s.starts_at.isoformat(),
             "ends_at": _iso(s.ends_at), "active": s.active(now), "expired": s.expired}
            for s in service.list_silences(db, include_expired=include_expired)]


@router.post("/silences", status_code=201, tags=["silences"])
def create_silence(body: SilenceBody, db: SessionDep, who: PrincipalDep,
                   st: StateDep) -> dict[str, Any]:
    allow(st, who, Permission.RESPOND, None, "silence.create")
    sil = service.create_silence(db, matchers=body.matchers, created_by=who.name,
                                 reason=body.reason, now=st.clock.now(), starts_at=body.starts_at,
                                 ends_at=body.ends_at, schedule=body.schedule)
    return {"id": sil.id}


@router.delete("/silences/{silence_id}", tags=["silences"])
def expire_silence(silence_id: str, db: SessionDep, who: PrincipalDep,
                   st: StateDep) -> dict[str, Any]:
    allow(st, who, Permission.RESPOND, None, "silence.expire")
    service.expire_silence(db, silence_id, actor=who.name, now=st.clock.now())
    return {"id": silence_id, "expired": True}


@router.post("/alerts/alertmanager", tags=["alerts"])
def alertmanager_webhook(payload: Annotated[Any, Body()], db: SessionDep, who: PrincipalDep,
                         st: StateDep) -> dict[str, Any]:
    """Receiver for Prometheus Alertmanager's webhook_config (version 4 payloads)."""
    allow(st, who, Permission.RESPOND, None, "alerts.alertmanager")
    changes = service.receive_alertmanager(db, payload, now=st.clock.now(), actor=who.name)
    return {"changes": [{"incident_id": c.incident_id, "model": c.model, "what": c.what,
                         "tier": str(c.tier)} for c in changes]}


@router.get("/reports/timings", tags=["reports"])
def timings(db: SessionDep, who: PrincipalDep, st: StateDep, since: datetime | None = None,
            until: datetime | None = None, model: str | None = None) -> list[dict[str, Any]]:
    start = since or st.clock.now() - timedelta(days=30)
    rows = service.timing_report(db, since=start, until=until, model=model)
    return [{"model": r.model, "tier": r.tier, "incidents": r.incidents, "open": r.open,
             "mttd_s": r.mttd_s, "mtta_s": r.mtta_s, "mttr_s": r.mttr_s}
            for r in rows if who.covers(r.model)]
