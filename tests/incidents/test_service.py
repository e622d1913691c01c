"""The incidents service on SQLite and PostgreSQL: triage applied, lifecycle, silences,
Alertmanager receiver, post-mortems, evidence and timing report — with audit entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper import audit
from watchkeeper.core.enums import IncidentState as S
from watchkeeper.core.enums import SignalKind, Tier
from watchkeeper.core.errors import ConflictError, InputError, NotFoundError
from watchkeeper.core.records import Contributor, Score, WindowKey
from watchkeeper.incidents import evidence, service
from watchkeeper.store import Store

T = datetime(2026, 11, 2, 10, tzinfo=UTC)
H = timedelta(hours=1)


def scored(i: int, tier: Tier, kind: SignalKind = SignalKind.DATA_DRIFT, model: str = "credit",
           feature: str = "income") -> Score:
    window = WindowKey(model, T + i * H, T + (i + 1) * H)
    c = Contributor(kind=kind, share=0.7, severity=0.8, feature=feature, text=f"{feature} moved")
    return Score(window=window, value=25.0 * tier, tier=tier, raw_tier=tier,
                 contributors=(c,) if tier else (), config_version="v1",
                 summary=f"{feature} drifted" if tier else "healthy")


def test_windows_of_one_problem_make_one_incident_with_recorded_upgrades(store: Store) -> None:
    with store.session() as s:
        [c1] = service.apply_score(s, scored(0, Tier.T1), now=T + H)
        [c2] = service.apply_score(s, scored(1, Tier.T2, feature="age"), now=T + 2 * H)
        [c3] = service.apply_score(s, scored(2, Tier.T2), now=T + 3 * H)
        [c4] = service.apply_score(s, scored(3, Tier.T1), now=T + 4 * H)
    assert (c1.what, c2.what, c3.what, c4.what) == ("opened", "upgraded", "window", "downgraded")
    assert len({c1.incident_id, c2.incident_id, c3.incident_id, c4.incident_id}) == 1
    with store.session() as s:
        [row] = service.list_incidents(s)
        assert (row.tier, row.max_tier, row.state) == (1, 2, "open")
        types = [e.type for e in service.timeline(s, row.id)]
        assert types.count("tier") == 2 and types.count("window") == 4
        assert audit.verify(s).ok


def test_auto_resolution_after_n_healthy_windows_and_postmortem_draft(store: Store) -> None:
    with store.session() as s:
        [opened] = service.apply_score(s, scored(0, Tier.T2), now=T + H)
        for i in (1, 2):
            assert service.apply_score(s, scored(i, Tier.T0), now=T + (i + 1) * H,
                                       resolve_after_healthy_windows=3)[0:0] == []
        [resolved] = service.apply_score(s, scored(3, Tier.T0), now=T + 4 * H,
                                         resolve_after_healthy_windows=3)
    assert resolved.what == "resolved" and resolved.incident_id == opened.incident_id
    with store.session() as s:
        pm = service.get_postmortem(s, opened.incident_id)
        assert pm.status == "draft"
        assert pm.body["metrics"]["mttr"] == "3.0h"
        assert pm.body["root_cause_hints"] == ["data_drift in income (70% of the score)"]


def test_without_policy_resolution_waits_for_a_person(store: Store) -> None:
    with store.session() as s:
        service.apply_score(s, scored(0, Tier.T1), now=T)
        for i in range(1, 10):
            service.apply_score(s, scored(i, Tier.T0), now=T + i * H)
        [row] = service.active_incidents(s)
        assert row.healthy_windows == 9


def test_lifecycle_transitions_are_timed_and_audited(store: Store) -> None:
    with store.session() as s:
        row = service.open_incident(s, model="credit", tier=Tier.T2, title="F1 dropped",
                                    actor="alice", now=T, rationale="seen on dashboard")
        iid = row.id
        service.transition(s, iid, S.ACKNOWLEDGED, actor="carol", now=T + timedelta(minutes=5))
        service.transition(s, iid, S.MITIGATING, actor="carol", now=T + H)
        service.transition(s, iid, S.RESOLVED, actor="carol", now=T + 2 * H,
                           rationale="rolled back")
        with pytest.raises(ConflictError, match="from resolved to acknowledged"):
            service.transition(s, iid, S.ACKNOWLEDGED, actor="carol", now=T + 3 * H)
    with store.session() as s:
        row = service.get(s, iid)
        assert row.acknowledged_by == "carol"
        t = service.times(row)
        assert (t.tta, t.ttr) == (300.0, 7200.0)
        actions = [e.action for e in audit.list_entries(s, subject=iid)]
        assert actions.count("incident.transition") == 3


def test_postmortem_done_needs_sections_and_finished_action_items(store: Store) -> None:
    with store.session() as s:
        iid = service.open_incident(s, model="credit", tier=Tier.T3, title="outage", actor="a",
                                    now=T).id
        service.transition(s, iid, S.RESOLVED, actor="a", now=T + H)
        item = service.add_action_item(s, iid, text="add null-rate alert upstream", owner="bob",
                                       due_at=T + 7 * 24 * H, actor="a", now=T + H)
        with pytest.raises(ConflictError, match="summary; root_cause; 1 action item"):
            service.transition(s, iid, S.POSTMORTEM_DONE, actor="a", now=T + 2 * H)
        service.edit_postmortem(s, iid, actor="a", now=T + 2 * H,
                                fields={"summary": "ETL job wrote nulls", "root_cause": "schema"})
        with pytest.raises(InputError, match="unknown post-mortem section"):
            service.edit_postmortem(s, iid, actor="a", now=T, fields={"gossip": "x"})
        service.complete_action_item(s, item.id, actor="bob", now=T + 3 * H)
        service.transition(s, iid, S.POSTMORTEM_DONE, actor="a", now=T + 3 * H)
        assert service.get_postmortem(s, iid).status == "done"


def test_dismissal_needs_a_known_reason(store: Store) -> None:
    with store.session() as s:
        iid = service.open_incident(s, model="m", tier=Tier.T1, title="t", actor="a", now=T).id
        with pytest.raises(InputError, match="false_positive or not_actionable"):
            service.transition(s, iid, S.DISMISSED, actor="a", now=T)
        service.transition(s, iid, S.DISMISSED, actor="a", now=T, reason="false_positive")
        assert service.get(s, iid).dismiss_reason == "false_positive"


def test_silence_suppresses_new_incidents_and_expires(store: Store) -> None:
    with store.session() as s:
        sil = service.create_silence(s, matchers=["model=credit", "kind=drift"],
                                     created_by="alice", reason="planned migration", now=T,
                                     ends_at=T + 2 * H)
        assert service.apply_score(s, scored(0, Tier.T2), now=T + H) == []
        service.expire_silence(s, sil.id, actor="alice", now=T + H)
        with pytest.raises(ConflictError, match="already expired"):
            service.expire_silence(s, sil.id, actor="alice", now=T + H)
        [c] = service.apply_score(s, scored(1, Tier.T2), now=T + H)
        assert c.what == "opened"


def test_recurring_silence_round_trips_through_the_store(store: Store) -> None:
    with store.session() as s:
        service.create_silence(s, matchers=["model=credit"], created_by="a", reason="batch",
                               now=T, schedule=[{"days": ["sun"], "start": "02:00",
                                                 "end": "04:00", "timezone": "UTC"}])
    sunday = datetime(2026, 11, 8, 3, tzinfo=UTC)
    with store.session() as s:
        [sil] = service.list_silences(s)
        assert sil.active(sunday) and not sil.active(sunday + H)
    with store.session() as s, pytest.raises(InputError, match=r"schedule\[0\]"):
        service.create_silence(s, matchers=["model=x"], created_by="a", reason="r", now=T,
                               schedule=[{"days": ["sun"]}])


def test_alertmanager_firing_then_resolved(store: Store) -> None:
    body = {"status": "firing", "alerts": [{"status": "firing", "labels": {
        "alertname": "PredictionErrors", "model": "credit", "severity": "warning"},
        "annotations": {"summary": "errors 7%"}, "startsAt": "2026-11-02T09:55:00Z"}]}
    with store.session() as s:
        [c] = service.receive_alertmanager(s, body, now=T)
        assert (c.what, c.tier) == ("opened", Tier.T2)
        body["alerts"][0]["labels"]["severity"] = "critical"
        [c2] = service.receive_alertmanager(s, body, now=T + H)
        assert (c2.incident_id, c2.what) == (c.incident_id, "upgraded")
        body["alerts"][0]["status"] = "resolved"
        [c3] = service.receive_alertmanager(s, body, now=T + 2 * H)
        assert c3.what == "resolved"
        row = service.get(s, c.incident_id)
        assert row.source == "external" and service.times(row).ttd == 300.0


def test_evidence_bundle_redacts_pii_and_renders_standalone_html(store: Store) -> None:
    with store.session() as s:
        iid = service.open_incident(s, model="m", tier=Tier.T2, title="<script>x</script>",
                                    actor="a", now=T).id
        b = service.evidence_bundle(s, iid, pii_fields=["email"], extra={"samples": [
            {"event_id": "e1", "email": "jane@example.com", "income": 10}]})
    assert b["sections"]["samples"][0]["email"] == "[redacted]"
    page = evidence.to_html(b)
    assert "jane@example.com" not in page and "<script>" not in page
    assert "http" not in page.split("<body>")[0]  # no external resources
    assert "jane@example.com" not in evidence.to_json(b)


def test_timing_report_per_model_and_tier(store: Store) -> None:
    with store.session() as s:
        for i, model in enumerate(["a", "a", "b"]):
            iid = service.open_incident(s, model=model, tier=Tier.T2, title=f"t{i}", actor="x",
                                        now=T + i * H, change_point_at=T + i * H - H / 2).id
            service.transition(s, iid, S.RESOLVED, actor="x", now=T + i * H + 2 * H)
        report = {(r.model, r.tier): r for r in service.timing_report(s)}
    assert report[("a", "T2")].incidents == 2
    assert report[("a", "T2")].mttd_s == 1800.0 and report[("b", "T2")].mttr_s == 7200.0


def test_unknown_incident_is_not_found(store: Store) -> None:
    with store.session() as s, pytest.raises(NotFoundError):
        service.get(s, "inc_nope")


def test_manual_incidents_need_tier_and_title(store: Store) -> None:
    with store.session() as s:
        with pytest.raises(InputError, match="T1 or above"):
            service.open_incident(s, model="m", tier=Tier.T0, title="x", actor="a", now=T)
        with pytest.raises(InputError, match="needs a title"):
            service.open_incident(s, model="m", tier=Tier.T1, title=" ", actor="a", now=T)


def test_automatic_mitigation_does_not_acknowledge_but_a_person_can_meanwhile(store: Store) -> None:
    with store.session() as s:
        iid = service.open_incident(s, model="m", tier=Tier.T2, title="t", actor="a", now=T).id
        service.transition(s, iid, S.MITIGATING, actor="watchkeeper", now=T + H / 6)
        assert service.get(s, iid).acknowledged_at is None
        row = service.transition(s, iid, S.ACKNOWLEDGED, actor="carol", now=T + H / 3)
        assert (row.state, row.acknowledged_by) == ("mitigating", "carol")
        assert service.times(row).tta == 1200.0
