"""Escalation service on SQLite and PostgreSQL: incidents in, outbox rows, drafts and timings
out, then delivered to real loopback receivers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from escalation.receivers import HttpReceiver
from escalation.samples import sample_incident
from watchkeeper.audit import list_entries, verify
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import IncidentState, Role, Tier
from watchkeeper.core.errors import ConflictError, NotFoundError, PermissionDenied
from watchkeeper.escalation.incident import IncidentView
from watchkeeper.escalation.outbox import deliver_due, outbox_counts
from watchkeeper.escalation.service import (
    EscalationService,
    approve_message,
    list_messages,
    timings,
)
from watchkeeper.store import Store
from watchkeeper.store.tables.escalation import OutboxRow

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def policy(url: str) -> dict[str, Any]:
    return {
        "people": {"alice": {"email": "alice@example.com"}, "carol": {"email": "c@example.com"},
                   "dave": {}, "frank": {"email": "frank@example.com"}},
        "roles": {"model_owner": ["alice"], "mlops_oncall": ["oncall:mlops"],
                  "exec_sponsor": ["frank"]},
        "oncall": {"mlops": {"rotation": "weekly", "members": ["carol", "dave"],
                             "start": "2026-03-02", "timezone": "UTC"}},
        "raci": {"T1": {"responsible": ["model_owner"], "accountable": ["model_owner"]},
                 "T2": {"responsible": ["mlops_oncall"], "accountable": ["model_owner"]},
                 "T3": {"responsible": ["mlops_oncall"], "accountable": ["exec_sponsor"]}},
        "escalation": {"T1": {"ack_within": "4h", "then": "T2", "remind_every": "1h"},
                       "T2": {"ack_within": "30m", "then": "T3", "remind_every": "10m"}},
        "channels": {
            "ops": {"type": "slack", "url_env": "OPS_URL"},
            "pager": {"type": "pagerduty", "routing_key_env": "PD_KEY",
                      "api_url": url + "/v2/enqueue"},
            "execs": {"type": "webhook", "url_env": "EXEC_URL", "audience": "executive"},
            "customers": {"type": "webhook", "url_env": "CUST_URL", "audience": "customer"},
        },
        "routes": {"T1": ["ops"], "T2": ["ops", "pager"],
                   "T3": ["ops", "pager", "execs", "customers"]},
        "messages": {"pii_fields": ["email"], "dashboard_url": "https://wk.example.com/"},
    }


def env(url: str) -> dict[str, str]:
    return {"OPS_URL": url + "/slack/T0/B0/tok123456", "PD_KEY": "pd-key-0001",
            "EXEC_URL": url + "/exec", "CUST_URL": url + "/customer"}


def rows(store: Store) -> list[OutboxRow]:
    with store.session() as s:
        return list(s.scalars(select(OutboxRow).order_by(OutboxRow.idempotency_key)))


def test_tick_queues_once_then_escalates_and_reminds(store: Store) -> None:
    clock = ManualClock(START)
    svc = EscalationService(policy("http://127.0.0.1:9"), clock)
    inc = sample_incident(tier=Tier.T1, opened_at=START)
    with store.session() as s:
        first = svc.tick(s, [inc])
    with store.session() as s:
        again = svc.tick(s, [inc])
    assert (first.queued, again.queued) == (1, 0)
    assert [r.idempotency_key for r in rows(store)] == ["inc_01:T1:trigger:ops"]

    clock.advance(timedelta(hours=4, minutes=15))  # past T1's deadline, one T2 reminder due
    with store.session() as s:
        result = svc.tick(s, [inc])
        [escalated] = list_entries(s, action=AuditAction.ESCALATED)
        trail = {e.action for e in list_entries(s, subject="inc_01")}
    assert trail == {AuditAction.ESCALATED.value, AuditAction.NOTIFICATION_QUEUED.value}
    assert result.escalations == 1
    assert escalated.details["tier"] == "T2"
    assert escalated.details["people"]["responsible"] == ["carol"]
    keys = {r.idempotency_key for r in rows(store)}
    assert keys == {"inc_01:T1:trigger:ops", "inc_01:T2:escalate:ops",
                    "inc_01:T2:escalate:pager", "inc_01:T2:remind:1:ops",
                    "inc_01:T2:remind:1:pager"}
    with store.session() as s:
        shown = timings(s, "inc_01")
    assert shown is not None and shown["tier"] == "T2"
    assert shown["ack_deadline"] == "2026-03-02T14:30:00+00:00"
    assert shown["next_reminder"] == "2026-03-02T14:20:00+00:00"
    assert shown["route"]["people"]["responsible"] == ["carol"]


def test_external_audiences_wait_for_an_authorised_approver(store: Store) -> None:
    clock = ManualClock(START)
    svc = EscalationService(policy("http://127.0.0.1:9"), clock)
    with store.session() as s:
        result = svc.tick(s, [sample_incident(tier=Tier.T3, opened_at=START)])
    assert result.drafts == 1
    assert "customers" not in {r.channel for r in rows(store)}
    assert "execs" in {r.channel for r in rows(store)}  # executive is internal: no approval
    with store.session() as s:
        [draft] = list_messages(s, status="draft")
    assert draft["audience"] == "customer" and draft["channels"] == ["customers"]
    assert "jane@example.com" not in draft["text"]

    with pytest.raises(PermissionDenied, match="approver"), store.session() as s:
        svc.approve_message(s, draft["id"], "mallory", [Role.RESPONDER])
    with pytest.raises(NotFoundError), store.session() as s:
        svc.approve_message(s, "msg_nope", "ann", [Role.APPROVER])
    with store.session() as s:
        assert svc.approve_message(s, draft["id"], "ann", [Role.APPROVER]) == 1
    with pytest.raises(ConflictError, match="queued"), store.session() as s:
        approve_message(s, draft["id"], "ann", ["approver"])
    with store.session() as s:
        [entry] = list_entries(s, action=AuditAction.MESSAGE_APPROVED)
        assert entry.actor == "ann" and entry.details["audience"] == "customer"
        assert verify(s).ok
        # A later tick must not draft the same message again.
        assert svc.tick(s, [sample_incident(tier=Tier.T3, opened_at=START)]).drafts == 0
    assert "customers" in {r.channel for r in rows(store)}


def test_no_message_carries_pii(store: Store) -> None:
    svc = EscalationService(policy("http://127.0.0.1:9"), ManualClock(START))
    with store.session() as s:
        svc.tick(s, [sample_incident(tier=Tier.T3, opened_at=START)])
        drafts = list_messages(s)
    stored = json.dumps([r.payload for r in rows(store)]) + json.dumps(drafts)
    assert "jane@example.com" not in stored
    assert "[redacted]" in stored  # the summary quoted the address; it was scrubbed


def test_acknowledge_and_resolve_reach_the_pager(store: Store) -> None:
    clock = ManualClock(START)
    svc = EscalationService(policy("http://127.0.0.1:9"), clock)
    inc = sample_incident(tier=Tier.T2, opened_at=START)
    with store.session() as s:
        svc.tick(s, [inc])
    acked = sample_incident(tier=Tier.T2, opened_at=START,
                            acknowledged_at=START + timedelta(minutes=5))
    clock.advance(timedelta(hours=2))
    with store.session() as s:
        result = svc.tick(s, [acked])
    assert result.escalations == 0  # acknowledged before the 30 min deadline
    keys = {r.idempotency_key for r in rows(store)}
    assert "inc_01:ack:pager" in keys and "inc_01:ack:ops" not in keys
    resolved = sample_incident(tier=Tier.T2, opened_at=START,
                               acknowledged_at=START + timedelta(minutes=5),
                               resolved_at=START + timedelta(hours=1))
    with store.session() as s:
        svc.tick(s, [resolved])
    keys = {r.idempotency_key for r in rows(store)}
    assert {"inc_01:resolve:pager", "inc_01:resolve:ops"} <= keys
    assert not any(":remind:" in k for k in keys)


def test_from_tick_to_receiver(store: Store, receiver: HttpReceiver) -> None:
    clock = ManualClock(START)
    svc = EscalationService(policy(receiver.url), clock)
    inc = sample_incident(tier=Tier.T2, opened_at=START)
    with store.session() as s:
        svc.tick(s, [inc])
    stats = deliver_due(store, clock.now(), env=env(receiver.url))
    assert stats.delivered == 2, [r.last_error for r in rows(store)]
    by_path = {r.path: r for r in receiver.requests}
    pd = by_path["/v2/enqueue"].json
    assert pd["event_action"] == "trigger" and pd["dedup_key"] == "watchkeeper-inc_01"
    assert pd["links"][0]["href"] == "https://wk.example.com/incidents/inc_01"
    slack = by_path["/slack/T0/B0/tok123456"].json
    assert "carol" in json.dumps(slack) or slack["blocks"]
    with store.session() as s:
        assert outbox_counts(s) == {"delivered": 2}


def test_incident_rows_from_the_incidents_stage_are_accepted_and_annotated(
        store: Store) -> None:
    from watchkeeper.incidents import service as incidents

    clock = ManualClock(START)
    svc = EscalationService(policy("http://127.0.0.1:9"), clock)
    with store.session() as s:
        row = incidents.open_incident(s, model="credit-risk", tier=Tier.T2, title="drift",
                                      actor="alice", now=START)
        result = svc.tick(s, [row])
        assert result.queued == 2
        types = [e.type for e in incidents.timeline(s, row.id)]
        assert types == ["opened", "notification"]
        incidents.transition(s, row.id, IncidentState.ACKNOWLEDGED, actor="carol",
                             now=START + timedelta(minutes=3))
        clock.advance(timedelta(minutes=5))
        svc.tick(s, [row])
        assert f"{row.id}:ack:pager" in {r.idempotency_key for r in s.scalars(select(OutboxRow))}
        # A view of the row (as the engine passes) annotates the same timeline.
        clock.advance(timedelta(hours=2))
        incidents.transition(s, row.id, IncidentState.RESOLVED, actor="carol", now=clock.now())
        svc.tick(s, [IncidentView.of(row)])
        texts = [e.text for e in incidents.timeline(s, row.id) if e.type == "notification"]
        assert texts[-1].startswith("resolution sent at T2")


def test_silent_tier_pages_the_on_call_deputies_on_their_own_channels(store: Store) -> None:
    config = policy("http://127.0.0.1:9")
    config["people"]["erin"] = {"email": "erin@example.com", "channels": ["erin_dm"]}
    config["channels"]["erin_dm"] = {"type": "slack", "url_env": "ERIN_URL"}
    config["oncall"]["mlops"]["deputies"] = ["erin"]
    config["escalation"]["T2"]["deputy_after"] = "15m"
    clock = ManualClock(START)
    svc = EscalationService(config, clock)
    inc = sample_incident(tier=Tier.T2, opened_at=START)
    with store.session() as s:
        svc.tick(s, [inc])
    assert not any(":deputy:" in r.idempotency_key for r in rows(store))
    clock.advance(timedelta(minutes=16))
    with store.session() as s:
        svc.tick(s, [inc])
    deputy = [r for r in rows(store) if ":deputy:" in r.idempotency_key]
    assert {r.channel for r in deputy} == {"ops", "pager", "erin_dm"}
    recipients = deputy[0].payload["recipients"]
    assert [r["person"] for r in recipients] == ["erin"]
    assert deputy[0].payload["message"]["subject"].startswith("[T2] Deputy page")
