"""The scoring service on a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from watchkeeper.audit import verify
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import SignalKind as K
from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import ConflictError, InputError, NotFoundError
from watchkeeper.core.records import WindowKey
from watchkeeper.scoring.config import ScoringConfig, TierBands
from watchkeeper.scoring.service import ScoringService
from watchkeeper.store import Store
from watchkeeper.store.tables.foundation import AuditLog
from watchkeeper.store.tables.scoring import ScoreRow

from .helpers import T0, sig, window

BAD = [sig(severity=0.97, feature="income", effect_size=0.5, p_value=1e-8),
       sig(K.LATENCY, 0.9, method="p99")]
OK = [sig(severity=0.05, feature="income")]


def test_scores_are_stored_with_tier_raw_tier_version_and_explanation(store: Store) -> None:
    svc = ScoringService(store, clock=ManualClock(T0))
    first = svc.score(window(0), BAD)
    second = svc.score(window(1), BAD)
    assert first.raw_tier == Tier.T3 and first.tier == Tier.T0  # not yet confirmed
    assert second.tier == Tier.T3
    stored = svc.scores("m")
    assert [s.tier for s in stored] == [Tier.T0, Tier.T3]
    assert stored[1].config_version == ScoringConfig().version
    top = stored[1].contributors[0]
    assert top.feature == "income" and top.interval is not None and 0 < top.share <= 1
    assert "income" in stored[1].summary
    with store.session(read_only=True) as s:
        row = s.scalars(select(ScoreRow).where(ScoreRow.window_start == window(1).start)).one()
        assert row.flags["bypassed"] is False and row.value == pytest.approx(second.value)


def test_persistence_state_survives_a_new_service_instance(store: Store) -> None:
    ScoringService(store).score(window(0), BAD)
    again = ScoringService(store)  # e.g. after a restart
    assert again.state("m").persistence.raw == [3]
    assert again.score(window(1), BAD).tier == Tier.T3


def test_rescoring_a_window_is_idempotent_and_out_of_order_is_refused(store: Store) -> None:
    svc = ScoringService(store)
    a = svc.score(window(0), BAD)
    assert svc.score(window(0), OK) == a  # stored score returned, state not stepped twice
    assert svc.state("m").persistence.step == 1
    svc.score(window(2), OK)
    with pytest.raises(ConflictError, match="in order"):
        svc.score(window(1), OK)
    with pytest.raises(InputError, match="start < end"):
        svc.score(WindowKey("m", T0 + timedelta(days=9), T0), OK)


def test_tier_changes_are_audited_and_the_chain_verifies(store: Store) -> None:
    svc = ScoringService(store)
    for i in range(2):
        svc.score(window(i), BAD)
    for i in range(2, 6):
        svc.score(window(i), OK)
    with store.session(read_only=True) as s:
        actions = [(r.action, r.details.get("tier")) for r in s.scalars(
            select(AuditLog).where(AuditLog.action == AuditAction.WINDOW_SCORED.value)
            .order_by(AuditLog.seq))]
        assert verify(s).ok
    assert actions == [("scoring.window", "T3"), ("scoring.window", "T0")]


def test_configs_are_versioned_activated_and_audited(store: Store) -> None:
    svc = ScoringService(store)
    assert svc.active_config() == ScoringConfig()
    new = ScoringConfig(bands=TierBands(20, 40, 70), label="calibrated")
    version = svc.save_config(new, actor="alice", metrics={"after": {"precision": 1.0}})
    assert svc.active_config() == new and svc.config(version) == new
    svc.save_config(ScoringConfig(), actor="bob")
    assert svc.active_config() == ScoringConfig()
    score = svc.score(window(0), BAD, config=svc.config(version))
    assert score.config_version == version
    with pytest.raises(NotFoundError, match="known"):
        svc.config("nope")
    with store.session(read_only=True) as s:
        entries = s.scalars(select(AuditLog).where(
            AuditLog.action == AuditAction.SCORING_CONFIG.value).order_by(AuditLog.seq)).all()
        assert [e.actor for e in entries] == ["alice", "bob"]
        assert entries[1].details["previous"] == version


def test_concurrent_scorers_of_one_model_never_double_step(store: Store, db_url: str) -> None:
    if db_url.startswith("sqlite:///") and ":memory:" in db_url:
        pytest.skip("needs a shared database")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with Store.open(db_url, migrate=False) as other:
                ScoringService(other).score(window(0), BAD)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    svc = ScoringService(store)
    assert len(svc.scores("m")) == 1 and svc.state("m").persistence.step == 1


def test_a_window_is_scored_from_the_signals_stored_for_it(store: Store) -> None:
    from watchkeeper.scoring.service import stored_signal_windows
    from watchkeeper.store.tables.signals import SignalRow

    # The signals stage owns the table and adds bookkeeping columns (event counts...) as it
    # grows; fill whatever required integer column this test does not know about with 0.
    bookkeeping = {c.name: 0 for c in SignalRow.__table__.columns
                   if not c.nullable and not c.primary_key and c.type.python_type is int}
    with store.session() as s:
        for i, severity in ((0, 0.97), (1, 0.97), (2, 0.05)):
            w = window(i)
            s.add(SignalRow(**{**bookkeeping, **dict(
                model="m", window_start=w.start, window_end=w.end, kind="data_drift",
                method="psi", feature="income", segment=None, severity=severity, statistic=0.5,
                p_value=1e-9, effect_size=0.5, threshold=0.1, catastrophic=False,
                evidence="income: PSI 0.5", details={}, created_at=T0)}))
    assert len(stored_signal_windows(store)) == 3
    svc = ScoringService(store)
    first, second = svc.score_stored(window(0)), svc.score_stored(window(1))
    assert first.raw_tier == Tier.T3 and second.tier == Tier.T3
    assert second.contributors[0].feature == "income"
    assert svc.score_stored(window(5)).value == 0  # nothing stored: nothing found


def test_non_finite_effects_are_stored_as_null_not_nan(store: Store) -> None:
    weird = [sig(severity=0.99, feature="x", effect_size=float("nan"), p_value=0.01),
             sig(K.LATENCY, 0.99, effect_size=float("inf"), p_value=1e-3)]
    svc = ScoringService(store)
    svc.score(window(0), weird)
    [stored] = svc.scores("m")
    assert {c.effect_size for c in stored.contributors} == {None}
    assert all(c.interval is None for c in stored.contributors)
