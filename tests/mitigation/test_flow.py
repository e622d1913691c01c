"""The mitigation loop on a real store (SQLite and PostgreSQL): playbook → queued retrain →
sandboxed training → gates → shadow/canary rollout → promotion, and the refusals on the way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from watchkeeper import audit
from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import IncidentState, Tier
from watchkeeper.core.errors import PermissionDenied
from watchkeeper.incidents import service as incidents
from watchkeeper.incidents.service import Change
from watchkeeper.ingest import IngestService
from watchkeeper.mitigation import service
from watchkeeper.mitigation.registry.base import Lineage
from watchkeeper.sim.credit import generate_credit
from watchkeeper.store import Store
from watchkeeper.store.tables.mitigation import MitigationRun

from .simulation import fit_champion, matrix, serve, write_policy

T0 = datetime(2026, 5, 4, 8, tzinfo=UTC)


class World:
    def __init__(self, store: Store, tmp: Path, **policy: Any) -> None:
        self.store, self.data = store, tmp / "data"
        self.policy = write_policy(tmp / "policy", **policy)
        self.clock = ManualClock(T0)
        self.svc = IngestService(store, self.policy, self.data, clock=self.clock)
        self.v1 = fit_champion()
        with store.session() as s:
            reg = service.registry(s, self.data)
            reg.register("credit", self.v1, lineage=Lineage(template="sklearn.logistic",
                                                            params={"threshold": 0.3}),
                         actor="ana", now=T0)
            service.set_champion(s, "credit", 1, actor="ana", now=T0, data_dir=self.data)
        self.models: dict[int, tuple[Any, float]] = {1: (self.v1, 0.3)}

    def state(self) -> Any:
        with self.store.session(read_only=True) as s:
            return service.routing_state(s, "credit")

    def hour(self, h: int, *, concept: float, n: int = 1200, **kw: Any) -> dict[str, Any]:
        return serve(self.svc, self.clock, self.state(), self.models, n=n, seed=100 + h,
                     concept=concept, start=T0 + timedelta(hours=h), **kw)

    def incident(self, tier: Tier, family: str = "performance", *, at: datetime,
                 change: datetime, contributors: list[dict[str, Any]] | None = None) -> str:
        with self.store.session() as s:
            row = incidents.open_incident(s, model="credit", tier=tier, title="F1 fell",
                                          actor="watchkeeper", now=at, family=family,
                                          source="score", change_point_at=change)
            if contributors:
                incidents.record(s, row, at=at, actor="watchkeeper", type="window",
                                 details={"contributors": contributors})
            return row.id

    def react(self, incident_id: str, tier: Tier, what: str = "opened") -> list[Any]:
        with self.store.session() as s:
            return service.on_incident_changes(
                s, self.policy, [Change(incident_id, "credit", what, tier, IncidentState.OPEN)],
                self.clock.now(), self.data)

    def tick(self) -> list[Any]:
        with self.store.session() as s:
            return service.advance(s, self.policy, self.clock.now(), self.data)


def test_retrain_gate_canary_promote_and_rerun_is_idempotent(store: Store, tmp_path: Path
                                                             ) -> None:
    w = World(store, tmp_path)
    for h in range(2):
        w.hour(h, concept=0.0)
    for h in range(2, 6):
        w.hour(h, concept=1.5)
    inc = w.incident(Tier.T1, at=T0 + timedelta(hours=6), change=T0 + timedelta(hours=2))
    outcome = w.react(inc, Tier.T1)[0]
    assert outcome.actions == ["retrain"]
    assert [r.status for r in outcome.results] == ["queued"]
    run_id = outcome.retrain_runs[0]
    again = w.react(inc, Tier.T1)[0]
    assert [r.status for r in again.results] == ["already_done"] and not again.retrain_runs

    done = service.run_retrain(store, w.policy, run_id, data_dir=w.data, now=w.clock.now())
    assert done.status == "rolled_out", done.summary
    assert {g["gate"] for g in done.gates} >= {"validation", "beat_champion", "calibration",
                                               "fairness", "latency", "prediction_sanity",
                                               "ood"}
    assert service.run_retrain(store, w.policy, run_id, data_dir=w.data).status == "skipped"
    with store.session() as s:
        run = s.get(MitigationRun, run_id)
        assert run.status == "done"
        assert run.result["data_window"]["n_rows"] > 1000
        assert run.result["configuration"]["template"] == "sklearn.logistic"
        assert len(run.result["trials"]) == 2
        info = service.registry(s, w.data).get("credit", done.version)
        assert info.lineage.parent_version == 1 and info.lineage.incident_id == inc
        assert info.lineage.data_fingerprint == run.result["data_window"]["fingerprint"]
        assert service.routing_state(s, "credit").shadow == done.version
        types = [e.type for e in incidents.timeline(s, inc)]
        assert "retrain" in types and "rollout" in types
        assert incidents.get(s, inc).state == "mitigating"
        candidate = service.registry(s, w.data).load("credit", done.version)
    w.models[done.version] = (candidate, info.lineage.params["threshold"])

    actions = []
    for h in range(6, 12):
        w.hour(h, concept=1.5)
        actions += [c.action for c in w.tick()]
        if w.state().champion == done.version:
            break
    assert actions.count("advance") == 2 and actions[-1] == "promote", actions
    state = w.state()
    assert (state.champion, state.fallback_version, state.canary) == (done.version, 1, None)
    with store.session() as s:
        entries = [e.action for e in audit.list_entries(s, subject="model:credit")]
        assert "mitigation.gate" in entries and "mitigation.promotion" in entries


def test_regressing_canary_is_rolled_back_automatically(store: Store, tmp_path: Path) -> None:
    w = World(store, tmp_path)
    w.hour(0, concept=0.0)
    with store.session() as s:
        # a deliberately bad candidate: fitted on labels that have nothing to do with x
        pop = generate_credit(2000, seed=5)
        bad = fit_champion(seed=9).fit(matrix(pop), pop["label"][::-1])
        service.registry(s, w.data).register("credit", bad, lineage=Lineage(
            params={"threshold": 0.3}), actor="mallory", now=w.clock.now())
        ro = service.start_rollout(s, w.policy, "credit", 2, actor="mallory",
                                   now=w.clock.now(), data_dir=w.data)
    w.models[2] = (bad, 0.3)
    seen = []
    for h in range(1, 6):
        w.hour(h, concept=0.0)
        seen += [c.action for c in w.tick()]
        if "rollback" in seen:
            break
    assert seen[-1] == "rollback", seen
    state = w.state()
    assert (state.champion, state.canary, state.shadow) == (1, None, None)
    with store.session() as s:
        row = service.get_rollout(s, ro.id)
        assert row.state == "rolled_back" and row.verdicts[-1]["decision"] == "regression"
        assert service.registry(s, w.data).get("credit", 2).status == "rejected"


def test_high_criticality_waits_for_an_authorised_second_person(store: Store,
                                                                 tmp_path: Path) -> None:
    w = World(store, tmp_path, criticality="high")
    w.hour(0, concept=0.0)
    with store.session() as s:
        service.registry(s, w.data).register("credit", fit_champion(seed=3), lineage=Lineage(
            params={"threshold": 0.3}), actor="carol", now=w.clock.now())
        ro = service.start_rollout(s, w.policy, "credit", 2, actor="carol", now=w.clock.now(),
                                   data_dir=w.data)
        assert ro.needs_sign_off
    w.models[2] = (fit_champion(seed=3), 0.3)
    for h in range(1, 5):
        w.hour(h, concept=0.0)
        w.tick()
    with store.session() as s:
        assert service.get_rollout(s, ro.id).state == "awaiting_sign_off"
    assert w.state().champion == 1  # no promotion without a person
    with store.session() as s, pytest.raises(PermissionDenied, match="risk_officer"):
        service.sign_off(s, w.policy, ro.id, approver="mallory", now=w.clock.now())
    with store.session() as s, pytest.raises(PermissionDenied, match="two-person rule"):
        service.sign_off(s, w.policy, ro.id, approver="carol", now=w.clock.now())
    with store.session() as s:
        service.sign_off(s, w.policy, ro.id, approver="dave", now=w.clock.now())
    w.tick()
    assert w.state().champion == 2
    with store.session() as s:
        assert service.get_rollout(s, ro.id).signed_off_by == "dave"


def test_data_quality_cause_quarantines_and_pages_instead_of_retraining(
        store: Store, tmp_path: Path) -> None:
    w = World(store, tmp_path)
    w.hour(0, concept=0.0)
    broke = T0 + timedelta(minutes=30)
    inc = w.incident(Tier.T2, family="drift", at=T0 + timedelta(hours=1), change=broke,
                     contributors=[{"kind": "data_quality", "feature": "income", "share": 0.8,
                                    "severity": 1.0, "text": "null flood: 60% of income"}])
    with store.session() as s:
        plans = service.plan_incident(s, w.policy, inc, w.clock.now(), w.data)
    assert [p.action for p in plans] == ["quarantine", "human_review", "page"]
    outcome = w.react(inc, Tier.T2)[0]
    assert not outcome.retrain_runs
    assert [r.type for r in outcome.requests] == ["review", "page"]
    quarantine = outcome.results[0]
    assert quarantine.details["feature"] == "income"
    assert quarantine.details["since"] == broke.isoformat()
    assert "income" in quarantine.summary
    with store.session() as s:
        windows = service.quarantined_windows(s, "credit", w.clock.now())
        assert windows and windows[0].start == broke
        texts = " ".join(e.text for e in incidents.timeline(s, inc))
        assert "quarantine" in texts and "page requested" in texts


def test_t3_playbook_throws_the_kill_switch_and_a_retrain_can_be_refused(
        store: Store, tmp_path: Path) -> None:
    w = World(store, tmp_path)
    with store.session() as s:
        service.registry(s, w.data).register("credit", fit_champion(seed=4), lineage=Lineage(),
                                             actor="ana", now=T0)
        service.set_champion(s, "credit", 2, actor="ana", now=T0, data_dir=w.data)
    inc = w.incident(Tier.T3, at=T0, change=T0)
    outcome = w.react(inc, Tier.T3)[0]
    assert [r.status for r in outcome.results] == ["done", "delegated"]
    decision = w.state()
    assert decision.kill_switch.active and decision.kill_switch.thrown_by == "watchkeeper"
    from watchkeeper.mitigation.routing import route

    assert route(decision, "anyone", T0).version == 1  # the previous version serves
    assert outcome.requests[0].type == "page"


def test_kill_switch_action_refuses_when_the_playbook_does_not_list_it(
        store: Store, tmp_path: Path) -> None:
    from watchkeeper.mitigation.actions import kill_switch

    w = World(store, tmp_path)
    inc = w.incident(Tier.T1, at=T0, change=T0)
    with store.session() as s:
        ctx, _ = service._context(s, w.policy, incidents.get(s, inc), T0, w.data)
        assert not kill_switch.plan(ctx).allowed
        result = kill_switch.execute(ctx)
    assert result.status == "refused" and "needs one of the roles" in result.summary
    assert not w.state().kill_switch.active


def test_crashing_training_leaves_production_untouched_and_escalates(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wk_crashing.py").write_text(
        "import os, signal\n"
        "def build(params, columns, task):\n"
        "    os.kill(os.getpid(), signal.SIGSEGV)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    w = World(store, tmp_path, template="wk_crashing.build")
    for h in range(3):
        w.hour(h, concept=1.0)
    inc = w.incident(Tier.T1, at=T0 + timedelta(hours=3), change=T0 + timedelta(hours=1))
    run_id = w.react(inc, Tier.T1)[0].retrain_runs[0]
    before = w.state()
    done = service.run_retrain(store, w.policy, run_id, data_dir=w.data, now=w.clock.now())
    assert done.status == "failed" and "crashed" in done.summary
    assert [r.type for r in done.requests] == ["page"]
    assert w.state() == before
    with store.session() as s:
        assert s.get(MitigationRun, run_id).result["sandbox"]["status"] == "crashed"
        assert len(service.registry(s, w.data).versions("credit")) == 1
        assert "page_requested" in [e.type for e in incidents.timeline(s, inc)]
