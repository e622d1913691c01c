"""Single actions on a real store: threshold recalibration, freeze, the daily retrain budget,
rollback to the previous champion, and importance weights."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from watchkeeper.core.enums import Tier
from watchkeeper.incidents import service as incidents
from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions import freeze, recalibrate_threshold, retrain, rollback
from watchkeeper.mitigation.registry.base import Lineage
from watchkeeper.mitigation.weighting import density_ratio_weights
from watchkeeper.store import Store

from .simulation import columns, fit_champion, matrix, population
from .test_flow import T0, World


def _ctx(w: World, inc: str) -> object:
    with w.store.session() as s:
        return service._context(s, w.policy, incidents.get(s, inc), w.clock.now(), w.data)[0]


def test_recalibrated_threshold_is_rolled_out_as_a_new_version(store: Store,
                                                              tmp_path: Path) -> None:
    w = World(store, tmp_path, history="10m")
    w.hour(0, concept=0.0)
    for h in range(1, 4):
        w.hour(h, concept=2.5)
    inc = w.incident(Tier.T1, at=w.clock.now(), change=T0 + timedelta(hours=1))
    with store.session() as s:
        ctx, _ = service._context(s, w.policy, incidents.get(s, inc), w.clock.now(), w.data)
        assert recalibrate_threshold.plan(ctx).allowed
        result = recalibrate_threshold.execute(ctx)
    assert result.status == "queued"
    done = service.run_retrain(store, w.policy, result.run_id, data_dir=w.data,
                               now=w.clock.now())
    with store.session() as s:
        info = service.registry(s, w.data).get("credit", done.version)
        run = service.get_run(s, result.run_id)
    assert info.lineage.template == "recalibrated" and info.lineage.parent_version == 1
    assert info.lineage.params["threshold"] != 0.3  # more defaults: a different cut
    assert run.result["gates"] and run.result["decision"]


def test_freeze_and_the_daily_budget_block_retraining(store: Store, tmp_path: Path) -> None:
    w = World(store, tmp_path)
    inc = w.incident(Tier.T1, at=T0, change=T0)
    with store.session() as s:
        ctx, _ = service._context(s, w.policy, incidents.get(s, inc), T0, w.data)
        assert freeze.execute(ctx).status == "done"
        plan = retrain.plan(ctx)
        assert not plan.allowed and "frozen by incident" in plan.blocked
        assert retrain.execute(ctx).status == "skipped"
    w2 = World(store, tmp_path / "b")
    with store.session() as s:
        for run in service.list_runs(s, incident_id=inc):  # lift the freeze
            if run.action == "freeze":
                s.delete(run)
    queued = []
    for i in range(3):
        other = w2.incident(Tier.T1, family=f"f{i}", at=T0, change=T0)
        with store.session() as s:
            ctx, _ = service._context(s, w2.policy, incidents.get(s, other), T0, w2.data)
            queued.append(retrain.execute(ctx))
    assert [r.status for r in queued] == ["queued", "queued", "skipped"]
    assert "max_per_day 2" in queued[-1].summary


def test_rollback_serves_the_previous_champion(store: Store, tmp_path: Path) -> None:
    w = World(store, tmp_path)
    with store.session() as s:
        service.registry(s, w.data).register("credit", fit_champion(seed=4), lineage=Lineage(),
                                             actor="ana", now=T0)
        service.set_champion(s, "credit", 2, actor="ana", now=T0, data_dir=w.data)
    inc = w.incident(Tier.T2, at=T0, change=T0)
    with store.session() as s:
        ctx, _ = service._context(s, w.policy, incidents.get(s, inc), T0, w.data)
        assert rollback.plan(ctx).details == {"from": 2, "to": 1}
        assert rollback.execute(ctx).status == "done"
        assert rollback.execute(ctx).status == "already_done"
    assert w.state().champion == 1


def test_density_ratio_weights_favour_rows_like_the_post_change_data() -> None:
    old, new = population(600, seed=1), population(600, seed=2)
    new["income"] = new["income"] * 3  # the post-change population earns more
    x = np.vstack([matrix(old), matrix(new)])
    post = np.r_[np.zeros(600), np.ones(600)]
    w = density_ratio_weights(x, post, columns())
    rich_old = np.asarray(old["income"]) > np.quantile(old["income"], 0.9)
    assert w.mean() == np.float64(1.0) or abs(w.mean() - 1) < 1e-9
    assert w[:600][rich_old].mean() > 2 * w[:600][~rich_old].mean()
    assert (density_ratio_weights(x[:15], post[:15], columns()) == 1).all()


def test_a_retrain_without_labelled_data_waits_then_fails_clearly_and_escalates(
        store: Store, tmp_path: Path) -> None:
    w = World(store, tmp_path)
    inc = w.incident(Tier.T1, at=T0 + timedelta(hours=1), change=T0)
    with store.session() as s:
        ctx, _ = service._context(s, w.policy, incidents.get(s, inc), w.clock.now(), w.data)
        run_id = retrain.execute(ctx).run_id
    for k in range(1, service.DATA_WAITS + 1):  # labels may still come: it tries again
        waited = service.run_retrain(store, w.policy, run_id, data_dir=w.data,
                                     now=w.clock.now() + k * timedelta(hours=1))
        assert waited.status == "waiting" and f"({k} of {service.DATA_WAITS})" in waited.summary
        with store.session(read_only=True) as s:
            assert service.get_run(s, run_id).status == "queued"
    done = service.run_retrain(store, w.policy, run_id, data_dir=w.data,
                               now=w.clock.now() + timedelta(hours=9))
    assert done.status == "failed" and "not enough clean labelled data" in done.summary
    assert done.requests[0].type == "page"
    with store.session() as s:
        run = service.get_run(s, run_id)
        assert run.status == "failed" and "labelled rows" in run.result["sandbox"]["message"]
