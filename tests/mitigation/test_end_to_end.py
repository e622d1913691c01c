"""End to end on simulated traffic: concept drift → T1 incident → sandboxed retrain on the
drifted window → gates → shadow and canary → promotion, with F1 recovered; a T3 incident
throws the kill switch and the SDK router serves the fallback; a bad candidate is rolled back.
Prints MTTR (detection to recovered KPI) in simulated time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from watchkeeper.core.enums import IncidentState, Tier
from watchkeeper.incidents.service import Change
from watchkeeper.mitigation import service
from watchkeeper.mitigation.registry.base import Lineage
from watchkeeper.sdk.router import Router
from watchkeeper.sim.credit import generate_credit
from watchkeeper.store import Store

from .simulation import fit_champion, matrix
from .test_flow import T0, World

DRIFT = 2.5  # added to the true rule's intercept: defaults jump from ~17% to ~57%


@pytest.mark.slow
def test_concept_drift_is_repaired_and_the_kill_switch_falls_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wk.db'}"
    store = Store.open(url)
    w = World(store, tmp_path, history="10m", budget=3, max_shift=0.6)
    pre = [w.hour(h, concept=0.0)["f1"] for h in range(3)]
    f1_pre = sum(pre) / len(pre)
    detected_at = None
    f1_by_hour: dict[int, float] = {}
    for h in range(3, 7):  # the concept drifts at hour 3
        f1_by_hour[h] = w.hour(h, concept=DRIFT)["f1"]
        if detected_at is None and f1_by_hour[h] < f1_pre - 0.03:  # the F1 KPI check
            detected_at = T0 + timedelta(hours=h + 1)
    assert detected_at is not None, f"no F1 drop: pre {pre}, after {f1_by_hour}"
    inc = w.incident(Tier.T1, at=detected_at, change=T0 + timedelta(hours=3))
    with store.session() as s:
        outcome = service.on_incident_changes(
            s, w.policy, [Change(inc, "credit", "opened", Tier.T1, IncidentState.OPEN)],
            w.clock.now(), w.data)[0]
    done = service.run_retrain(store, w.policy, outcome.retrain_runs[0], data_dir=w.data,
                               now=w.clock.now())
    assert done.status == "rolled_out", done.summary
    with store.session(read_only=True) as s:
        info = service.registry(s, w.data).get("credit", done.version)
        w.models[done.version] = (service.registry(s, w.data).load("credit", done.version),
                                  info.lineage.params["threshold"])
    recovered_at = None
    h = 7
    while recovered_at is None and h < 16:
        f1_by_hour[h] = w.hour(h, concept=DRIFT)["f1"]
        w.tick()
        if w.state().champion == done.version and f1_by_hour[h] >= f1_pre - 0.02:
            recovered_at = T0 + timedelta(hours=h + 1)
        h += 1
    assert w.state().champion == done.version
    assert recovered_at is not None, f"F1 pre-drift {f1_pre:.3f}, by hour {f1_by_hour}"
    mttr = recovered_at - detected_at
    print(f"\nMTTR (detection to recovered F1, simulated time): {mttr} "
          f"(pre-drift F1 {f1_pre:.3f}, worst drifted {min(f1_by_hour.values()):.3f}, "
          f"recovered {f1_by_hour[h - 1]:.3f}; rollout dwell "
          f"{w.policy.mitigation.rollout.dwell} x {len(w.policy.mitigation.rollout.steps) + 1})")

    # a deliberately bad candidate is rolled back automatically
    pop = generate_credit(2000, seed=5)
    bad = fit_champion(seed=9).fit(matrix(pop), pop["label"][::-1])
    with store.session() as s:
        v_bad = service.registry(s, w.data).register("credit", bad, lineage=Lineage(
            params={"threshold": 0.3}), actor="ana", now=w.clock.now()).version
        ro = service.start_rollout(s, w.policy, "credit", v_bad, actor="ana",
                                   now=w.clock.now(), data_dir=w.data)
    w.models[v_bad] = (bad, 0.3)
    for k in range(h, h + 4):
        w.hour(k, concept=DRIFT)
        w.tick()
    with store.session(read_only=True) as s:
        assert service.get_rollout(s, ro.id).state == "rolled_back"
    assert w.state().champion == done.version

    # a T3 incident: the playbook throws the kill switch; the SDK router serves the fallback
    inc3 = w.incident(Tier.T3, family="latency", at=w.clock.now(), change=w.clock.now())
    with store.session() as s:
        service.on_incident_changes(
            s, w.policy, [Change(inc3, "credit", "opened", Tier.T3, IncidentState.OPEN)],
            w.clock.now(), w.data)
    router = Router("credit", db=url, refresh_s=0.0, clock=w.clock)
    try:
        decision = router.route("customer-1")
        assert (decision.role, decision.version) == ("fallback", 1)
        assert "kill switch" in decision.reason
    finally:
        router.close()
    store.close()
