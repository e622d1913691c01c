"""The only module of the incidents stage that touches the store.

Every change happens in the caller's session, appends to the incident's timeline and to the
audit trail in the same transaction, and returns what changed so that the engine can hand it
to escalation and mitigation (which never call each other).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper import audit
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.enums import IncidentState, Tier
from watchkeeper.core.errors import ConflictError, InputError, NotFoundError
from watchkeeper.core.ids import new_id
from watchkeeper.core.records import Score
from watchkeeper.incidents import evidence, postmortem
from watchkeeper.incidents.alertmanager import ExternalAlert, parse_webhook
from watchkeeper.incidents.grouping import group_key
from watchkeeper.incidents.lifecycle import ACTIVE, DISMISS_REASONS, check_transition
from watchkeeper.incidents.silences import Matcher, Silence, WeeklyWindow, silenced_by
from watchkeeper.incidents.timings import IncidentTimes, TimingSummary, human_duration, summarise
from watchkeeper.incidents.triage import (
    Healthy,
    Open,
    OpenIncident,
    Reopen,
    Suppressed,
    TriageInput,
    Update,
    triage,
)
from watchkeeper.store.tables.incidents import (
    ActionItem,
    Incident,
    IncidentEvent,
    Postmortem,
    SilenceRow,
)

SYSTEM = "watchkeeper"


@dataclass(frozen=True, slots=True)
class Change:
    """What happened to an incident, for escalation and mitigation to react to."""

    incident_id: str
    model: str
    what: str  # opened | upgraded | downgraded | window | resolved | reopened | suppressed
    tier: Tier
    state: IncidentState
    detail: str = ""


# --- reading -----------------------------------------------------------------------------------


def get(session: Session, incident_id: str) -> Incident:
    row = session.get(Incident, incident_id)
    if row is None:
        raise NotFoundError(f"no incident {incident_id!r}")
    return row


def list_incidents(
    session: Session,
    *,
    model: str | None = None,
    states: Iterable[IncidentState] | None = None,
    min_tier: Tier | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[Incident]:
    q = select(Incident).order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(limit)
    if model:
        q = q.where(Incident.model == model)
    if states is not None:
        q = q.where(Incident.state.in_([s.value for s in states]))
    if min_tier is not None:
        q = q.where(Incident.tier >= int(min_tier))
    if since is not None:
        q = q.where(Incident.opened_at >= since)
    return list(session.scalars(q))


def active_incidents(session: Session, model: str | None = None) -> list[Incident]:
    return list_incidents(session, model=model, states=ACTIVE, limit=10_000)


def timeline(session: Session, incident_id: str) -> list[IncidentEvent]:
    get(session, incident_id)
    q = select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
    return list(session.scalars(q.order_by(IncidentEvent.id)))


def latest_event(session: Session, incident_id: str, type: str) -> IncidentEvent | None:
    """The newest timeline entry of one type (e.g. the last scored window, the last tier
    change), without reading the whole timeline."""
    return session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == incident_id,
                                    IncidentEvent.type == type)
        .order_by(IncidentEvent.id.desc()).limit(1)).first()


def times(row: Incident) -> IncidentTimes:
    return IncidentTimes(
        model=row.model,
        tier=str(Tier(row.max_tier)),
        detected_at=row.opened_at,
        change_point_at=row.change_point_at,
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
    )


# --- writing -----------------------------------------------------------------------------------


def record(
    session: Session, incident: Incident, *, at: datetime, actor: str, type: str, text: str = "",
    details: Mapping[str, Any] | None = None,
) -> IncidentEvent:
    """Append one entry to the incident's timeline (also used by escalation and mitigation)."""
    event = IncidentEvent(incident_id=incident.id, at=ensure_utc(at), actor=actor, type=type,
                          text=text, details=dict(details or {}))
    session.add(event)
    return event


def open_incident(
    session: Session,
    *,
    model: str,
    tier: Tier,
    title: str,
    actor: str,
    now: datetime,
    family: str = "manual",
    key: str | None = None,
    source: str = "manual",
    labels: Mapping[str, str] | None = None,
    change_point_at: datetime | None = None,
    rationale: str = "",
) -> Incident:
    if tier < Tier.T1:
        raise InputError("an incident needs tier T1 or above", field="tier", expected="T1..T3")
    if not title.strip():
        raise InputError("an incident needs a title", field="title")
    key = key or group_key(model, family, new_id() if source == "manual" else None)
    clash = session.scalars(
        select(Incident).where(Incident.key == key,
                               Incident.state.in_([s.value for s in ACTIVE]))
    ).first()
    if clash is not None:
        raise ConflictError(f"incident {clash.id} is already open for {key}")
    now = ensure_utc(now)
    row = Incident(
        id=new_id("inc"), key=key, model=model, family=family, source=source, title=title[:500],
        tier=int(tier), max_tier=int(tier), state=IncidentState.OPEN.value,
        labels=dict(labels or {"model": model, "kind": family}), opened_at=now,
        change_point_at=ensure_utc(change_point_at) if change_point_at else None,
        healthy_windows=0, updated_at=now,
    )
    session.add(row)
    session.flush()
    record(session, row, at=now, actor=actor, type="opened", text=rationale or title,
           details={"tier": str(tier), "source": source})
    audit.append(session, actor=actor, action=AuditAction.INCIDENT_OPENED, subject=row.id,
                 details={"model": model, "key": key, "tier": str(tier), "title": row.title,
                          "source": source, "rationale": rationale}, at=now)
    return row


def transition(
    session: Session,
    incident_id: str,
    target: IncidentState,
    *,
    actor: str,
    now: datetime,
    rationale: str = "",
    reason: str | None = None,
) -> Incident:
    """Move an incident through its lifecycle; refuses illegal moves with the legal ones."""
    row = get(session, incident_id)
    current = IncidentState(row.state)
    if (target == IncidentState.ACKNOWLEDGED and current == IncidentState.MITIGATING
            and row.acknowledged_at is None):
        # A person takes an incident that automatic mitigation already works on: record the
        # acknowledgement, and let the mitigation go on.
        now = ensure_utc(now)
        row.acknowledged_at, row.acknowledged_by, row.updated_at = now, actor, now
        text = "acknowledged while mitigating" + (f": {rationale}" if rationale else "")
        record(session, row, at=now, actor=actor, type="state", text=text,
               details={"from": current.value, "to": current.value, "acknowledged": True})
        audit.append(session, actor=actor, action=AuditAction.INCIDENT_TRANSITION,
                     subject=row.id, details={"from": current.value, "to": current.value,
                                              "acknowledged": True, "rationale": rationale},
                     at=now)
        return row
    check_transition(current, target)
    if target == IncidentState.DISMISSED and reason not in DISMISS_REASONS:
        raise InputError(f"a dismissal needs a reason, got {reason!r}", field="reason",
                         expected=" or ".join(DISMISS_REASONS))
    if target == IncidentState.POSTMORTEM_DONE:
        _check_postmortem_done(session, row)  # before any change, so a refusal changes nothing
    now = ensure_utc(now)
    row.state = target.value
    row.updated_at = now
    if target == IncidentState.ACKNOWLEDGED and row.acknowledged_at is None:
        row.acknowledged_at, row.acknowledged_by = now, actor
    elif target == IncidentState.MITIGATING:
        # Automatic mitigation does not acknowledge: a person still has to (MTTA, paging).
        row.mitigating_at = row.mitigating_at or now
    elif target == IncidentState.RESOLVED:
        row.resolved_at = now
    elif target == IncidentState.DISMISSED:
        row.dismissed_at, row.dismiss_reason = now, reason
    elif target == IncidentState.OPEN:  # reopened
        row.resolved_at = row.dismissed_at = row.dismiss_reason = None
        row.healthy_windows = 0
    text = f"{current.value} → {target.value}" + (f": {rationale}" if rationale else "")
    record(session, row, at=now, actor=actor, type="state", text=text,
           details={"from": current.value, "to": target.value, "reason": reason})
    audit.append(session, actor=actor, action=AuditAction.INCIDENT_TRANSITION, subject=row.id,
                 details={"from": current.value, "to": target.value, "rationale": rationale,
                          "reason": reason}, at=now)
    needs_postmortem = row.max_tier >= Tier.T2 and target == IncidentState.RESOLVED
    if needs_postmortem and session.get(Postmortem, row.id) is None:
        _start_postmortem(session, row, now=now, actor=actor)
    return row


def comment(session: Session, incident_id: str, *, actor: str, text: str,
            now: datetime) -> IncidentEvent:
    if not text.strip():
        raise InputError("a comment cannot be empty", field="text")
    row = get(session, incident_id)
    event = record(session, row, at=now, actor=actor, type="comment", text=text[:10_000])
    audit.append(session, actor=actor, action=AuditAction.INCIDENT_COMMENT, subject=row.id,
                 details={"text": text[:10_000]}, at=now)
    return event


def set_tier(session: Session, row: Incident, tier: Tier, *, actor: str, now: datetime,
             rationale: str) -> str:
    old = Tier(row.tier)
    if tier == old:
        return "same"
    direction = "upgraded" if tier > old else "downgraded"
    row.tier = int(tier)
    row.max_tier = max(row.max_tier, int(tier))
    row.updated_at = ensure_utc(now)
    record(session, row, at=now, actor=actor, type="tier", text=rationale,
           details={"from": str(old), "to": str(tier), "direction": direction})
    audit.append(session, actor=actor, action=AuditAction.INCIDENT_UPDATED, subject=row.id,
                 details={"tier_from": str(old), "tier_to": str(tier), "rationale": rationale},
                 at=now)
    return direction


# --- the tick's entry point --------------------------------------------------------------------


def apply_score(
    session: Session,
    score: Score,
    *,
    now: datetime,
    resolve_after_healthy_windows: int | None = None,
    group_within: timedelta | None = None,
    change_point_at: datetime | None = None,
) -> list[Change]:
    """Open, update, reopen or count towards resolution the model's incidents for one scored
    window. A problem that returns within `group_within` of its resolution reopens it."""
    model = score.window.model
    rows = {r.id: r for r in active_incidents(session, model)}
    recent: list[Incident] = []
    if group_within is not None:
        recent = list(session.scalars(select(Incident).where(
            Incident.model == model, Incident.state == IncidentState.RESOLVED.value,
            Incident.resolved_at >= ensure_utc(now) - group_within)))
    decisions = triage(TriageInput(
        score=score,
        active=[OpenIncident(r.id, r.key, r.model, Tier(r.tier), r.healthy_windows,
                             dict(r.labels or {})) for r in rows.values()],
        silences=active_silences(session, now),
        resolve_after_healthy_windows=resolve_after_healthy_windows,
        now=now,
        recently_resolved=[OpenIncident(r.id, r.key, r.model, Tier(r.tier)) for r in recent],
    ))
    changes: list[Change] = []
    why = score.summary or f"score {score.value:.0f}"
    for d in decisions:
        if isinstance(d, Open):
            row = open_incident(
                session, model=model, tier=d.tier, title=d.title, actor=SYSTEM, now=now,
                family=d.family, key=d.key, source="score", labels=d.labels,
                change_point_at=change_point_at or score.window.start, rationale=why,
            )
            _window(session, row, score, now)
            changes.append(Change(row.id, model, "opened", d.tier, IncidentState.OPEN, why))
        elif isinstance(d, Update):
            row = rows[d.incident_id]
            row.healthy_windows = 0
            direction = set_tier(session, row, d.new_tier, actor=SYSTEM, now=now, rationale=why)
            _window(session, row, score, now)
            what = direction if direction != "same" else "window"
            changes.append(Change(row.id, model, what, d.new_tier, IncidentState(row.state), why))
        elif isinstance(d, Reopen):
            row = session.get(Incident, d.incident_id)
            assert row is not None
            transition(session, row.id, IncidentState.OPEN, actor=SYSTEM, now=now,
                       rationale=f"the problem is back within the grouping window: {why}")
            set_tier(session, row, d.tier, actor=SYSTEM, now=now, rationale=why)
            _window(session, row, score, now)
            changes.append(Change(row.id, model, "reopened", d.tier, IncidentState.OPEN, why))
        elif isinstance(d, Healthy):
            row = rows[d.incident_id]
            row.healthy_windows = d.healthy_windows
            row.last_window_end = score.window.end
            if d.resolve:
                transition(session, row.id, IncidentState.RESOLVED, actor=SYSTEM, now=now,
                           rationale=f"{d.healthy_windows} healthy windows in a row")
                changes.append(Change(row.id, model, "resolved", Tier(row.tier),
                                      IncidentState.RESOLVED))
        elif isinstance(d, Suppressed):
            audit.append(session, actor=SYSTEM, action=AuditAction.INCIDENT_UPDATED,
                         subject=d.key, details={"suppressed": d.reason, "tier": str(d.tier),
                                                 "window": str(score.window)}, at=now)
    return changes


def _window(session: Session, row: Incident, score: Score, now: datetime) -> None:
    row.last_window_end = score.window.end
    record(session, row, at=now, actor=SYSTEM, type="window",
           text=score.summary, details={"window_start": score.window.start.isoformat(),
                                        "window_end": score.window.end.isoformat(),
                                        "score": round(score.value, 1), "tier": str(score.tier),
                                        "config_version": score.config_version,
                                        "contributors": [
                                            {"kind": c.kind.value, "feature": c.feature,
                                             "share": round(c.share, 4),
                                             "severity": round(c.severity, 4), "text": c.text}
                                            for c in score.contributors[:5]]})


def receive_alertmanager(session: Session, payload: Any, *, now: datetime,
                         actor: str = "alertmanager") -> list[Change]:
    """Open, update or resolve incidents from an Alertmanager webhook body."""
    changes = []
    for alert in parse_webhook(payload):
        changes.extend(_external(session, alert, now=now, actor=actor))
    return changes


def _external(session: Session, alert: ExternalAlert, *, now: datetime,
              actor: str) -> list[Change]:
    row = session.scalars(select(Incident).where(
        Incident.key == alert.key, Incident.state.in_([s.value for s in ACTIVE]))).first()
    text = alert.summary or alert.alertname
    if not alert.firing:
        if row is None:
            return []
        transition(session, row.id, IncidentState.RESOLVED, actor=actor, now=now,
                   rationale=f"Alertmanager resolved {alert.alertname}")
        return [Change(row.id, alert.model, "resolved", Tier(row.tier), IncidentState.RESOLVED)]
    if row is not None:
        direction = set_tier(session, row, alert.tier, actor=actor, now=now, rationale=text)
        what = direction if direction != "same" else "window"
        return [Change(row.id, alert.model, what, alert.tier, IncidentState(row.state), text)]
    labels = {**alert.labels, "model": alert.model, "kind": "external",
              "tier": str(alert.tier)}
    silence = silenced_by(labels, now, active_silences(session, now))
    if silence is not None:
        return []
    row = open_incident(session, model=alert.model, tier=alert.tier,
                        title=f"{alert.model}: {alert.alertname}" + (f" — {text}" if text else ""),
                        actor=actor, now=now, family="external", key=alert.key,
                        source="external", labels=labels, change_point_at=alert.starts_at,
                        rationale=text)
    return [Change(row.id, alert.model, "opened", alert.tier, IncidentState.OPEN, text)]


# --- silences ----------------------------------------------------------------------------------


def create_silence(
    session: Session,
    *,
    matchers: Sequence[str],
    created_by: str,
    reason: str,
    now: datetime,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    schedule: Sequence[Mapping[str, Any]] = (),
) -> Silence:
    """`schedule` items: {days: [sun], start: "02:00", end: "04:00", timezone: "UTC"}."""
    windows = []
    for i, item in enumerate(schedule):
        try:
            windows.append(WeeklyWindow.parse(item["days"], item["start"], item["end"],
                                              item.get("timezone", "UTC")))
        except KeyError as exc:
            raise InputError(f"missing {exc.args[0]!r}", field=f"schedule[{i}]",
                             expected="days, start, end and optional timezone") from None
    silence = Silence(
        id=new_id("sil"), matchers=tuple(Matcher.parse(m) for m in matchers),
        starts_at=ensure_utc(starts_at or now), ends_at=ensure_utc(ends_at) if ends_at else None,
        created_by=created_by, reason=reason, schedule=tuple(windows),
    )
    session.add(SilenceRow(
        id=silence.id, matchers=[str(m) for m in silence.matchers],
        schedule=[dict(s) for s in schedule], starts_at=silence.starts_at, ends_at=silence.ends_at,
        created_at=ensure_utc(now), created_by=created_by, reason=reason,
    ))
    audit.append(session, actor=created_by, action=AuditAction.SILENCE_CREATED, subject=silence.id,
                 details={"matchers": [str(m) for m in silence.matchers], "reason": reason,
                          "starts_at": silence.starts_at.isoformat(),
                          "ends_at": silence.ends_at.isoformat() if silence.ends_at else None,
                          "schedule": [dict(s) for s in schedule]}, at=now)
    return silence


def expire_silence(session: Session, silence_id: str, *, actor: str, now: datetime) -> None:
    row = session.get(SilenceRow, silence_id)
    if row is None:
        raise NotFoundError(f"no silence {silence_id!r}")
    if row.expired_at is not None:
        raise ConflictError(f"silence {silence_id} already expired at {row.expired_at}")
    row.expired_at, row.expired_by = ensure_utc(now), actor
    audit.append(session, actor=actor, action=AuditAction.SILENCE_EXPIRED, subject=silence_id,
                 details={}, at=now)


def _to_silence(row: SilenceRow) -> Silence:
    return Silence(
        id=row.id, matchers=tuple(Matcher.parse(m) for m in row.matchers),
        starts_at=row.starts_at, ends_at=row.ends_at, created_by=row.created_by,
        reason=row.reason, expired=row.expired_at is not None,
        schedule=tuple(WeeklyWindow.parse(s["days"], s["start"], s["end"],
                                          s.get("timezone", "UTC")) for s in row.schedule),
    )


def list_silences(session: Session, *, include_expired: bool = False) -> list[Silence]:
    q = select(SilenceRow).order_by(SilenceRow.created_at)
    if not include_expired:
        q = q.where(SilenceRow.expired_at.is_(None))
    return [_to_silence(r) for r in session.scalars(q)]


def active_silences(session: Session, now: datetime) -> list[Silence]:
    return [s for s in list_silences(session) if s.active(now)]


# --- post-mortems --------------------------------------------------------------------------------


def _event_dicts(session: Session, incident_id: str) -> list[dict[str, Any]]:
    return [{"at": e.at.isoformat(), "actor": e.actor, "type": e.type, "text": e.text,
             "details": e.details} for e in timeline(session, incident_id)]


def as_dict(row: Incident) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "model": row.model, "tier": str(Tier(row.tier)),
            "max_tier": str(Tier(row.max_tier)), "state": row.state, "key": row.key,
            "source": row.source, "labels": row.labels, "opened_at": row.opened_at.isoformat(),
            "change_point_at": row.change_point_at.isoformat() if row.change_point_at else None}


def _start_postmortem(session: Session, row: Incident, *, now: datetime, actor: str) -> None:
    session.flush()
    body = postmortem.draft(incident=as_dict(row), times=times(row),
                            events=_event_dicts(session, row.id),
                            contributors=_latest_contributors(session, row))
    session.add(Postmortem(incident_id=row.id, created_at=now, updated_at=now, updated_by=actor,
                           status="draft", body=body))
    record(session, row, at=now, actor=actor, type="postmortem", text="post-mortem drafted")


def _latest_contributors(session: Session, row: Incident) -> list[dict[str, Any]]:
    window = latest_event(session, row.id, "window")
    return list(window.details.get("contributors", [])) if window else []


def get_postmortem(session: Session, incident_id: str) -> Postmortem:
    pm = session.get(Postmortem, incident_id)
    if pm is None:
        raise NotFoundError(f"incident {incident_id} has no post-mortem (only resolved T2/T3 "
                            "incidents get one)")
    return pm


def edit_postmortem(session: Session, incident_id: str, *, actor: str, now: datetime,
                    fields: Mapping[str, str]) -> Postmortem:
    pm = get_postmortem(session, incident_id)
    unknown = sorted(set(fields) - set(postmortem.SECTIONS))
    if unknown:
        raise InputError(f"unknown post-mortem section(s) {', '.join(unknown)}",
                         field="sections", expected=", ".join(postmortem.SECTIONS))
    pm.body = {**pm.body, **{k: str(v)[:20_000] for k, v in fields.items()}}
    pm.updated_at, pm.updated_by = ensure_utc(now), actor
    audit.append(session, actor=actor, action=AuditAction.INCIDENT_UPDATED, subject=incident_id,
                 details={"postmortem_sections": sorted(fields)}, at=now)
    return pm


def add_action_item(session: Session, incident_id: str, *, text: str, owner: str,
                    due_at: datetime, actor: str, now: datetime) -> ActionItem:
    get(session, incident_id)
    if not text.strip() or not owner.strip():
        raise InputError("an action item needs text and an owner", field="text/owner")
    item = ActionItem(incident_id=incident_id, text=text[:2000], owner=owner,
                      due_at=ensure_utc(due_at), created_at=ensure_utc(now))
    session.add(item)
    session.flush()
    audit.append(session, actor=actor, action=AuditAction.INCIDENT_UPDATED, subject=incident_id,
                 details={"action_item": item.id, "text": item.text, "owner": owner,
                          "due_at": item.due_at.isoformat()}, at=now)
    return item


def complete_action_item(session: Session, item_id: int, *, actor: str,
                         now: datetime) -> ActionItem:
    item = session.get(ActionItem, item_id)
    if item is None:
        raise NotFoundError(f"no action item {item_id}")
    if item.done_at is not None:
        raise ConflictError(f"action item {item_id} was already done at {item.done_at}")
    item.done_at, item.done_by = ensure_utc(now), actor
    audit.append(session, actor=actor, action=AuditAction.INCIDENT_UPDATED,
                 subject=item.incident_id, details={"action_item_done": item_id}, at=now)
    return item


def action_items(session: Session, incident_id: str) -> list[ActionItem]:
    q = select(ActionItem).where(ActionItem.incident_id == incident_id).order_by(ActionItem.id)
    return list(session.scalars(q))


def _check_postmortem_done(session: Session, row: Incident) -> None:
    pm = get_postmortem(session, row.id)
    open_items = sum(i.done_at is None for i in action_items(session, row.id))
    missing = postmortem.missing_for_done(pm.body, open_items)
    if missing:
        raise ConflictError("the post-mortem is not finished: " + "; ".join(missing))
    pm.status = "done"


# --- evidence ----------------------------------------------------------------------------------


def evidence_bundle(session: Session, incident_id: str, *, pii_fields: Sequence[str] = (),
                    extra: Mapping[str, list[Mapping[str, Any]]] | None = None) -> dict[str, Any]:
    """Timeline, action items and whatever later stages add (signals, scores, samples, lineage);
    redacted of the policy's PII fields."""
    row = get(session, incident_id)
    t = times(row)
    sections: dict[str, list[Mapping[str, Any]]] = {
        "timeline": [{k: v for k, v in e.items() if k != "details"} | {"details": e["details"]}
                     for e in _event_dicts(session, incident_id)],
        "action_items": [{"text": i.text, "owner": i.owner, "due_at": i.due_at.isoformat(),
                          "done_at": i.done_at.isoformat() if i.done_at else None}
                         for i in action_items(session, incident_id)],
        **(extra or {}),
    }
    return evidence.bundle(
        incident=as_dict(row),
        timings={"mttd": human_duration(t.ttd), "mtta": human_duration(t.tta),
                 "mttr": human_duration(t.ttr), "mttd_s": t.ttd, "mtta_s": t.tta,
                 "mttr_s": t.ttr},
        sections=sections, pii_fields=list(pii_fields),
    )


def timing_report(session: Session, *, since: datetime | None = None,
                  until: datetime | None = None, model: str | None = None) -> list[TimingSummary]:
    q = select(Incident).where(Incident.state != IncidentState.DISMISSED.value)
    if since is not None:
        q = q.where(Incident.opened_at >= since)
    if until is not None:
        q = q.where(Incident.opened_at < until)
    if model:
        q = q.where(Incident.model == model)
    return summarise(times(r) for r in session.scalars(q))
