"""The action catalogue matches the policy's; playbook choice, gates and the rollout state
machine on plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from watchkeeper.core.enums import Task, Tier
from watchkeeper.core.errors import InputError
from watchkeeper.mitigation import gates, playbook, rollout
from watchkeeper.mitigation.actions import ACTIONS
from watchkeeper.mitigation.templates import TEMPLATES, resolve
from watchkeeper.policy.catalogue import ACTIONS as POLICY_ACTIONS

NOW = datetime(2026, 5, 4, tzinfo=UTC)


def test_action_catalogue_has_exactly_the_policy_ids() -> None:
    assert set(ACTIONS) == set(POLICY_ACTIONS)
    for action_id, module in ACTIONS.items():
        assert action_id == module.ID
        assert callable(module.plan) and callable(module.execute)


def test_data_quality_cause_replaces_learning_actions_with_quarantine_and_page() -> None:
    books = {Tier.T1: ["retrain"], Tier.T2: ["retrain", "human_review", "recalibrate_threshold"]}
    cause = playbook.root_cause("drift", [{"kind": "data_quality", "feature": "income",
                                           "text": "stuck"}], NOW)
    assert cause.data_quality and cause.feature == "income" and cause.since == NOW
    assert playbook.choose(books, Tier.T2, cause) == ["quarantine", "human_review", "page"]
    assert playbook.choose(books, Tier.T2, cause, quarantine_on_data_quality=False) == books[
        Tier.T2]
    healthy = playbook.root_cause("performance", [{"kind": "performance"}], NOW)
    assert playbook.choose(books, Tier.T1, healthy) == ["retrain"]
    assert playbook.choose(books, Tier.T3, healthy) == books[Tier.T2]  # nearest lower tier
    family_only = playbook.root_cause("data_quality", [{"kind": "data_drift", "feature": "a"},
                                                       {"kind": "data_quality",
                                                        "feature": "b"}], None)
    assert family_only.feature == "b"


def test_a_kill_switch_to_the_previous_version_does_not_help_against_broken_inputs() -> None:
    books = {Tier.T3: ["kill_switch", "page"]}
    cause = playbook.root_cause("data_quality", [{"kind": "data_quality", "feature": "x"}], NOW)
    assert playbook.choose(books, Tier.T3, cause) == ["quarantine", "page"]
    assert playbook.choose(books, Tier.T3, cause, fallback="reject") == [
        "quarantine", "kill_switch", "page"]


def test_gates_pass_and_fail_with_their_figures() -> None:
    assert gates.beat_champion("f1", 0.52, 0.50, margin=0.01, n=100).passed
    failed = gates.beat_champion("f1", 0.505, 0.50, margin=0.01, n=100)
    assert not failed.passed and failed.figures["gain"] == pytest.approx(0.005)
    assert gates.beat_champion("rmse", 1.0, 1.2, margin=0.1, n=10).passed  # lower is better
    assert gates.beat_champion("f1", 0.4, None, margin=0.0, n=10).skipped
    y = np.array([0, 1] * 50)
    assert gates.calibration(y, np.full(100, 0.5), Task.BINARY_CLASSIFICATION,
                             max_ece=0.05).passed
    assert not gates.calibration(y, np.full(100, 0.9), Task.BINARY_CLASSIFICATION,
                                 max_ece=0.05).passed
    groups = np.array(["a"] * 50 + ["b"] * 50)
    decided = np.r_[np.ones(50), np.zeros(50)]
    unfair = gates.fairness(y, decided, groups, attribute="g", metric="demographic_parity",
                            max_gap=0.1)
    assert not unfair.passed and unfair.figures["gap"] == 1.0
    assert not gates.fairness(y, decided, None, attribute="g", metric="demographic_parity",
                              max_gap=0.1).passed
    assert gates.latency([1.0] * 99 + [50.0], max_p99_ms=100).passed
    assert not gates.latency([1.0] * 90 + [50.0] * 10, max_p99_ms=10).passed
    assert gates.latency([1.0], max_p99_ms=None).skipped
    constant = gates.prediction_sanity(np.full(10, 0.9), None, Task.BINARY_CLASSIFICATION,
                                       threshold=0.5, champion_threshold=None, max_shift=0.2)
    assert not constant.passed and "same answer" in constant.reason
    assert not gates.prediction_sanity(np.array([0.1, np.nan]), None,
                                       Task.BINARY_CLASSIFICATION, threshold=0.5,
                                       champion_threshold=None, max_shift=0.2).passed
    shifted = gates.prediction_sanity(np.r_[np.full(80, 0.9), np.full(20, 0.1)],
                                      np.r_[np.full(20, 0.9), np.full(80, 0.1)],
                                      Task.BINARY_CLASSIFICATION, threshold=0.5,
                                      champion_threshold=0.5, max_shift=0.2)
    assert not shifted.passed and shifted.figures["shift"] == pytest.approx(0.6)
    train = np.array([[1.0, "a"], [2.0, "b"]], dtype=object)
    recent = np.array([[1.5, "a"], [9.0, "a"], [1.5, "zzz"], [2.0, "b"]], dtype=object)
    ood = gates.ood(train, recent, 1, max_share=0.1)
    assert not ood.passed and ood.figures["share"] == 0.5


def _side(n: int, realised: float | None, estimated: float | None = None,
          errors: int = 0) -> rollout.SideFigures:
    return rollout.SideFigures(n, n if realised is not None else 0, errors, realised, estimated)


def test_canary_verdict_uses_labels_first_then_estimates_then_waits() -> None:
    kw = {"metric": "f1", "max_kpi_drop": 0.02, "max_error_rate": 0.05}
    assert rollout.judge(_side(100, 0.40), _side(100, 0.50), **kw).decision == "regression"
    healthy = rollout.judge(_side(100, 0.49), _side(100, 0.50), **kw)
    assert healthy.decision == "healthy" and healthy.basis == "realised"
    est = rollout.judge(_side(100, None, 0.3), _side(100, None, 0.5), **kw)
    assert est.decision == "regression" and est.basis == "estimated"
    assert rollout.judge(_side(5, None), _side(5, None), **kw).decision == "inconclusive"
    errors = rollout.judge(_side(100, 0.6, errors=20), _side(100, 0.5), **kw)
    assert errors.decision == "regression" and "error rate" in errors.reason
    # the champion served nothing at 100%: its realised figure from before is the baseline
    assert rollout.judge(_side(100, 0.40), _side(0, None), baseline=(0.5, "realised"),
                         **kw).decision == "regression"
    # ...and without labels yet, the champion's last estimate (same basis) is the baseline
    at_full = rollout.judge(_side(100, None, 0.49), _side(0, None), baseline=(0.5, "estimated"),
                            **kw)
    assert at_full.decision == "healthy" and at_full.basis == "estimated"


def test_rollout_steps_dwell_sign_off_and_rollback() -> None:
    steps, dwell = [25.0, 100.0], timedelta(hours=1)
    ok = rollout.Verdict("healthy", "", "f1", "realised", 0.5, 0.5, 0.0)
    bad = rollout.Verdict("regression", "worse", "f1", "realised", 0.3, 0.5, 0.0)
    kw = {"steps": steps, "dwell": dwell, "needs_sign_off": True, "signed_off": False}
    s = rollout.next_step(state="shadow", step=-1, step_started_at=NOW, now=NOW, verdict=ok, **kw)
    assert s.action == "hold"
    s = rollout.next_step(state="shadow", step=-1, step_started_at=NOW,
                          now=NOW + dwell, verdict=ok, **kw)
    assert (s.action, s.step, s.share) == ("advance", 0, 0.25)
    s = rollout.next_step(state="canary", step=1, step_started_at=NOW, now=NOW + dwell,
                          verdict=ok, **kw)
    assert s.action == "await_sign_off"
    s = rollout.next_step(state="awaiting_sign_off", step=1, step_started_at=NOW,
                          now=NOW + dwell, verdict=ok, **{**kw, "signed_off": True})
    assert s.action == "promote"
    s = rollout.next_step(state="canary", step=0, step_started_at=NOW, now=NOW, verdict=bad,
                          **kw)
    assert s.action == "rollback"  # without waiting for the dwell


def test_templates_catalogue_and_import_paths() -> None:
    assert set(TEMPLATES) == {"sklearn.gradient_boosting", "sklearn.logistic",
                              "sklearn.random_forest"}
    assert resolve("sklearn.logistic") is TEMPLATES["sklearn.logistic"]
    custom = resolve("watchkeeper.mitigation.templates._logistic")
    assert custom.build is not None and custom.version == "1"
    with pytest.raises(InputError, match="neither built in nor importable"):
        resolve("nosuch.module.thing")
    with pytest.raises(InputError, match="one of sklearn"):
        resolve("bare")


def test_fast_f1_threshold_search_agrees_with_sklearn() -> None:
    from watchkeeper.mitigation import metrics

    rng = np.random.default_rng(0)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    fast = metrics.best_threshold(y, p, "f1")
    cuts = np.unique(np.quantile(p, np.linspace(0.02, 0.98, 97)))
    slow = max(cuts, key=lambda t: metrics.metric("f1", y, p, Task.BINARY_CLASSIFICATION, t))
    assert fast == pytest.approx(slow)


def test_operational_causes_are_not_retrained() -> None:
    books = {Tier.T2: ["retrain", "human_review"]}
    cause = playbook.root_cause("latency", [{"kind": "latency"}], NOW)
    assert playbook.choose(books, Tier.T2, cause) == ["human_review"]
