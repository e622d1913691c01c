"""Escalation's service: turns incidents into queued notifications, drafts and timings.

`tick` is called by the engine (and may be called as often as wanted): for each incident it
computes the route and escalation timeline at the incident's own instants, and queues every
due event that has not been queued before. Idempotency keys are derived from the incident, the
event and the channel, so a repeated or concurrent tick queues nothing twice, and everything
happens in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.audit import append as audit_append
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import SYSTEM_CLOCK, Clock, ensure_utc
from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import ConflictError, NotFoundError, PermissionDenied
from watchkeeper.core.ids import new_id
from watchkeeper.escalation.config import EXTERNAL_AUDIENCES, ChannelConfig, EscalationConfig
from watchkeeper.escalation.deadlines import Event, Timeline, timeline
from watchkeeper.escalation.incident import IncidentView
from watchkeeper.escalation.messages import Message, render_message
from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.outbox import enqueue, enqueue_many, outbox_values
from watchkeeper.escalation.routing import Route, deputy_route, route
from watchkeeper.incidents import service as incidents
from watchkeeper.store.tables.escalation import EscalationState, MessageRow, OutboxRow
from watchkeeper.store.tables.incidents import Incident

ACTOR = "escalation"
DRAFT, APPROVED, QUEUED = "draft", "approved", "queued"
# Acknowledgement goes to channels that track an alert's state; resolution to everyone on call.
ACK_CHANNEL_TYPES = frozenset({"pagerduty", "webhook"})


@dataclass
class TickResult:
    incidents: int = 0
    events: int = 0  # new events (trigger, escalate, remind, acknowledge, resolve)
    queued: int = 0  # notifications put in the outbox
    drafts: int = 0  # external messages waiting for approval
    escalations: int = 0
    timings: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Planned:
    incident: IncidentView
    event: str  # trigger | escalate | remind | deputy | acknowledge | resolve
    event_key: str  # stable part of the idempotency key, e.g. "T2:escalate"
    tier: Tier
    at: datetime
    route: Route
    timings: Mapping[str, Any]


class EscalationService:
    def __init__(self, policy: Any, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = EscalationConfig.from_policy(policy)
        self.clock = clock

    # --- planning (pure) -------------------------------------------------------------------

    def plan(self, incident: Any, now: datetime | None = None) -> tuple[Timeline, Route]:
        """The incident's escalation timeline and current route; nothing is written."""
        inc = IncidentView.of(incident)
        now = ensure_utc(now or self.clock.now())
        tl = self._timeline(inc, now)
        return tl, route(self.config, tl.current.tier, now, inc.model)

    def _timeline(self, inc: IncidentView, now: datetime) -> Timeline:
        return timeline(self.config.escalation, inc.tier, inc.since, now,
                        acknowledged_at=inc.acknowledged_at, resolved_at=inc.resolved_at)

    def _planned(self, inc: IncidentView, now: datetime) -> tuple[Timeline, list[_Planned]]:
        tl = self._timeline(inc, now)
        timings = tl.to_dict()
        out: list[_Planned] = []
        if inc.tier == Tier.T0:
            return tl, out
        events: list[Event] = tl.due_events()
        for ev in events:
            # People on call when the event fired, not when the tick happens to run.
            where = (deputy_route if ev.kind == "deputy" else route)(self.config, ev.tier, ev.at,
                                                                   inc.model)
            if ev.kind == "deputy" and not where.assignments:
                continue  # no deputy available: the deadline will escalate instead
            out.append(_Planned(inc, ev.kind, ev.key, ev.tier, ev.at, where, timings))
        reached = {lv.tier for lv in tl.levels}
        last = tl.current.tier
        if inc.acknowledged_at and inc.acknowledged_at <= now:
            out.append(_Planned(inc, "acknowledge", "ack", last, inc.acknowledged_at,
                                _union(self.config, reached, inc.acknowledged_at, inc.model),
                                timings))
        if inc.resolved_at and inc.resolved_at <= now:
            out.append(_Planned(inc, "resolve", "resolve", last, inc.resolved_at,
                                _union(self.config, reached, inc.resolved_at, inc.model),
                                timings))
        return tl, out

    # --- writing ---------------------------------------------------------------------------

    def tick(self, session: Session, incidents: Iterable[Any], now: datetime | None = None
             ) -> TickResult:
        now = ensure_utc(now or self.clock.now())
        items = list(incidents)
        views = [IncidentView.of(i) for i in items]
        originals = {v.id: obj for v, obj in zip(views, items, strict=True)}
        result = TickResult(incidents=len(views))
        known = _known_keys(session, [v.id for v in views])
        states = _states(session, [v.id for v in views])
        batch: list[dict[str, Any]] = []
        for inc in views:
            tl, planned = self._planned(inc, now)
            result.timings[inc.id] = tl.to_dict()
            self._save_state(session, states.get(inc.id), inc, tl, now)
            for p in planned:
                self._emit(session, p, known, now, result, originals.get(inc.id), batch)
        result.queued = enqueue_many(session, batch)
        return result

    def _emit(self, session: Session, p: _Planned, known: set[str], now: datetime,
              result: TickResult, original: Any, batch: list[dict[str, Any]]) -> None:
        inc = p.incident
        targets = [t for t in p.route.channels if _wants(p.event, t.audience,
                                                         self.config.channels[t.channel])]
        prefix = f"{inc.id}:{p.event_key}"
        fresh = [t for t in targets if f"{prefix}:{t.channel}" not in known]
        if not fresh:
            return
        recipients = tuple(
            {"person": a.person, "raci": a.raci,
             "name": self.config.people[a.person].name if a.person in self.config.people
             else a.person,
             "email": self.config.people[a.person].email if a.person in self.config.people
             else None}
            for a in p.route.assignments)
        messages: dict[str, Message] = {}
        queued_channels: list[str] = []
        drafts: dict[str, list[ChannelConfig]] = {}
        for t in fresh:
            channel = self.config.channels[t.channel]
            if t.audience not in messages:
                messages[t.audience] = render_message(
                    inc, t.audience, event=p.event,
                    dashboard_url=self.config.messages.dashboard_url,
                    pii_fields=self.config.messages.pii_fields,
                    people=p.route.by_raci(), timings=p.timings)
            note = _notification(inc, p, messages[t.audience], recipients,
                                 f"{prefix}:{t.channel}")
            known.add(note.idempotency_key)
            if (t.audience in EXTERNAL_AUDIENCES
                    and self.config.messages.external_audiences_need_approval):
                drafts.setdefault(t.audience, []).append(channel)
                continue
            batch.append(outbox_values(inc.id, channel, t.audience, note, note.idempotency_key,
                                       now=now))
            queued_channels.append(t.channel)
        for audience, channels in drafts.items():
            if _save_draft(session, f"{prefix}:{audience}", inc, audience, p, messages[audience],
                           recipients, channels, now):
                result.drafts += 1
        if not queued_channels and not drafts:
            return
        result.events += 1
        details = {"event": p.event, "tier": str(p.tier), "at": p.at.isoformat(),
                   "channels": queued_channels, "drafts": sorted(drafts),
                   "people": p.route.by_raci()}
        if p.event == "escalate":
            result.escalations += 1
            audit_append(session, actor=ACTOR, action=AuditAction.ESCALATED,
                         subject=inc.id, at=now, details=details)
        audit_append(session, actor=ACTOR, action=AuditAction.NOTIFICATION_QUEUED,
                     subject=inc.id, at=now, details=details)
        _record_on_incident(session, original, now, p, details)

    def _save_state(self, session: Session, row: EscalationState | None, inc: IncidentView,
                    tl: Timeline, now: datetime) -> None:
        current = route(self.config, tl.current.tier, now, inc.model)
        values = {"tier": str(tl.current.tier),
                  "ack_deadline": tl.current.ack_deadline if tl.stopped_at is None else None,
                  "next_escalation": tl.next_escalation, "next_reminder": tl.next_reminder,
                  "timings": tl.to_dict(), "route": current.to_dict(), "updated_at": now}
        if row is None:
            session.add(EscalationState(incident_id=inc.id, **values))
        else:
            for k, v in values.items():
                setattr(row, k, v)

    def approve_message(self, session: Session, message_id: str, approver: str,
                        roles: Iterable[str], now: datetime | None = None) -> int:
        return approve_message(session, message_id, approver, roles,
                               approver_roles=self.config.messages.approver_roles,
                               now=now or self.clock.now())


# --- module-level API ------------------------------------------------------------------------


def approve_message(
    session: Session,
    message_id: str,
    approver: str,
    roles: Iterable[str],
    *,
    approver_roles: Iterable[str] = ("approver", "admin"),
    now: datetime | None = None,
) -> int:
    """Approve an external message draft and queue it to its channels; returns how many
    notifications were queued. Refused unless `roles` holds one of `approver_roles`."""
    when = ensure_utc(now or SYSTEM_CLOCK.now())
    allowed = {str(getattr(r, "value", r)) for r in approver_roles}
    held = {str(getattr(r, "value", r)) for r in roles}
    if not allowed & held:
        raise PermissionDenied(f"{approver} may not approve external messages; needs one of the "
                               f"roles {', '.join(sorted(allowed))} (has: "
                               f"{', '.join(sorted(held)) or 'none'})")
    row = session.get(MessageRow, message_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no message {message_id!r}")
    if row.status != DRAFT:
        raise ConflictError(f"message {message_id} is already {row.status} (by {row.approved_by})")
    note = Notification.from_dict(row.content)
    queued = 0
    for raw in row.channels:
        channel = ChannelConfig.from_dict(raw)
        key = f"{row.key}:{channel.name}"
        payload = Notification(**{**_fields(note), "idempotency_key": key})
        queued += enqueue(session, row.incident_id, channel, row.audience, payload, key, now=when)
    row.status, row.approved_by, row.approved_at = QUEUED, approver, when
    audit_append(session, actor=approver, action=AuditAction.MESSAGE_APPROVED,
                 subject=row.incident_id, at=when,
                 details={"message_id": row.id, "audience": row.audience,
                          "roles": sorted(held), "channels": [c["name"] for c in row.channels],
                          "subject": note.message.subject})
    return queued


def escalate_now(session: Session, incident_id: str, *, actor: str, now: datetime,
                 rationale: str = "") -> Tier:
    """A responder's "escalate now": the incident moves up one tier (through the incidents
    stage, audited there); the next tick routes and notifies the new tier's people."""
    row = session.get(Incident, incident_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no incident {incident_id!r}")
    if row.state not in ("open", "acknowledged", "mitigating"):
        raise ConflictError(f"incident {incident_id} is {row.state}; only open, acknowledged "
                            "or mitigating incidents can be escalated")
    if row.tier >= Tier.T3:
        raise ConflictError(f"incident {incident_id} is already at the top tier (T3)")
    tier = Tier(row.tier + 1)
    incidents.set_tier(session, row, tier, actor=actor, now=now,
                       rationale=rationale or f"escalated to {tier.name} by {actor}")
    return tier


def list_messages(session: Session, incident_id: str | None = None,
                  status: str | None = None) -> list[dict[str, Any]]:
    q = select(MessageRow).order_by(MessageRow.created_at, MessageRow.id)
    if incident_id:
        q = q.where(MessageRow.incident_id == incident_id)
    if status:
        q = q.where(MessageRow.status == status)
    return [{"id": r.id, "incident_id": r.incident_id, "audience": r.audience,
             "status": r.status, "subject": r.content["message"]["subject"],
             "text": r.content["message"]["text"], "channels": [c["name"] for c in r.channels],
             "created_at": r.created_at.isoformat(), "approved_by": r.approved_by,
             "approved_at": r.approved_at.isoformat() if r.approved_at else None}
            for r in session.scalars(q)]


def timings(session: Session, incident_id: str) -> dict[str, Any] | None:
    """The latest computed escalation timings and route of an incident (for its page)."""
    row = session.get(EscalationState, incident_id)
    if row is None:
        return None
    return {"tier": row.tier, "updated_at": row.updated_at.isoformat(), **row.timings,
            "route": row.route}


# --- helpers ---------------------------------------------------------------------------------


def _wants(event: str, audience: str, channel: ChannelConfig) -> bool:
    if event in ("trigger", "escalate"):
        return True
    if audience != "oncall":
        return False  # reminders and state changes are for responders, not stakeholders
    if event == "acknowledge":
        return channel.type in ACK_CHANNEL_TYPES
    return True  # remind, resolve


def _union(config: EscalationConfig, tiers: set[Tier], at: datetime, model: str) -> Route:
    routes = [route(config, t, at, model) for t in sorted(tiers)]
    seen: dict[str, Any] = {}
    for r in routes:
        for c in r.channels:
            seen.setdefault(c.channel, c)
    return Route(max(tiers), tuple(a for r in routes for a in r.assignments),
                 tuple(seen.values()))


def _notification(inc: IncidentView, p: _Planned, message: Message,
                  recipients: tuple[Mapping[str, Any], ...], key: str) -> Notification:
    return Notification(idempotency_key=key, event=p.event, incident_id=inc.id, model=inc.model,
                        tier=str(p.tier), message=message, dedup_key=f"watchkeeper-{inc.id}",
                        recipients=recipients, opened_at=inc.opened_at.isoformat(),
                        labels={str(k): str(v) for k, v in inc.labels.items()})


def _fields(note: Notification) -> dict[str, Any]:
    return {f: getattr(note, f) for f in note.__dataclass_fields__}


def _save_draft(session: Session, key: str, inc: IncidentView, audience: str, p: _Planned,
                message: Message, recipients: tuple[Mapping[str, Any], ...],
                channels: list[ChannelConfig], now: datetime) -> bool:
    if session.scalar(select(MessageRow.id).where(MessageRow.key == key)) is not None:
        return False
    note = _notification(inc, p, message, recipients, key)
    session.add(MessageRow(id=new_id("msg"), key=key, incident_id=inc.id, audience=audience,
                           status=DRAFT, content=note.to_dict(),
                           channels=[c.to_dict() for c in channels], created_at=now))
    session.flush()
    return True


def _states(session: Session, incident_ids: list[str]) -> dict[str, EscalationState]:
    out: dict[str, EscalationState] = {}
    for i in range(0, len(incident_ids), 500):
        chunk = incident_ids[i:i + 500]
        out.update((r.incident_id, r) for r in session.scalars(
            select(EscalationState).where(EscalationState.incident_id.in_(chunk))))
    return out


def _known_keys(session: Session, incident_ids: list[str]) -> set[str]:
    """Keys already queued or drafted for these incidents (one query per 500 incidents)."""
    known: set[str] = set()
    for i in range(0, len(incident_ids), 500):
        chunk = incident_ids[i:i + 500]
        known |= set(session.scalars(select(OutboxRow.idempotency_key)
                                     .where(OutboxRow.incident_id.in_(chunk))))
        for key, channels in session.execute(select(MessageRow.key, MessageRow.channels)
                                             .where(MessageRow.incident_id.in_(chunk))):
            prefix = key.rsplit(":", 1)[0]
            known |= {f"{prefix}:{c['name']}" for c in channels}
    return known


def _record_on_incident(session: Session, original: Any, now: datetime, p: _Planned,
                        details: Mapping[str, Any]) -> None:
    """Put the notification on the incident's own timeline when the incidents stage has it
    (callers may pass its row, or a view of it)."""
    if not isinstance(original, Incident):
        original = session.get(Incident, p.incident.id)
    if original is not None:
        word = {"escalate": "escalated", "remind": "reminded", "trigger": "notified",
                "deputy": "deputies paged",
                "acknowledge": "acknowledgement sent", "resolve": "resolution sent"}[p.event]
        incidents.record(session, original, at=now, actor=ACTOR, type="notification",
                         text=f"{word} at {p.tier}: " + ", ".join(
                             [*details["channels"], *details["drafts"]]),
                         details=dict(details))
