from __future__ import annotations

from datetime import timedelta

import pytest

from watchkeeper.core.enums import SignalKind as K
from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import InputError
from watchkeeper.scoring import seasonality
from watchkeeper.scoring.config import ContextFactors, ScoringConfig, SeasonalityConfig
from watchkeeper.scoring.context import ModelContext, context_multiplier
from watchkeeper.scoring.explain import effect_interval
from watchkeeper.scoring.scorer import ModelState, score_window

from .helpers import T0, sig, window

WEEKLY = SeasonalityConfig(enabled=True, slot="hour_of_week", history=4)


def test_a_weekly_cycle_pages_nobody_once_a_week_was_seen() -> None:
    """Mondays 09:00 always look drifted; from the second week on that is normal."""
    cfg = ScoringConfig(seasonality=WEEKLY)
    state = ModelState()
    tiers_by_week: dict[int, list[Tier]] = {}
    for i in range(24 * 7 * 3):
        monday_morning = i % (24 * 7) in (9, 10, 11)
        severity = 0.95 if monday_morning else 0.05
        scored, state = score_window(window(i), [sig(severity=severity, feature="x")], cfg,
                                     state)
        tiers_by_week.setdefault(i // (24 * 7), []).append(scored.score.tier)
    assert max(tiers_by_week[0]) >= Tier.T2  # no baseline yet in the first week
    assert max(tiers_by_week[1]) == Tier.T0
    assert max(tiers_by_week[2]) == Tier.T0


def test_something_new_in_a_seasonal_slot_still_counts() -> None:
    state = seasonality.SeasonalState()
    seasonality.learn([sig(severity=0.6, feature="x")], T0, state, WEEKLY)
    [adjusted] = seasonality.adjust([sig(severity=0.95, feature="x")],
                                    T0 + timedelta(weeks=1), state, WEEKLY)
    assert adjusted.severity == pytest.approx((0.95 - 0.6) / 0.4)
    assert adjusted.details["raw_severity"] == 0.95
    [other_slot] = seasonality.adjust([sig(severity=0.95, feature="x")],
                                      T0 + timedelta(hours=1), state, WEEKLY)
    assert other_slot.severity == 0.95


def test_alerting_windows_do_not_become_the_new_normal() -> None:
    state = seasonality.SeasonalState()
    seasonality.learn([sig(severity=0.1, feature="x")], T0, state, WEEKLY)
    seasonality.learn([sig(severity=0.9, feature="x")], T0 + timedelta(weeks=1), state, WEEKLY,
                      alerting=True)
    [adjusted] = seasonality.adjust([sig(severity=0.9, feature="x")],
                                    T0 + timedelta(weeks=2), state, WEEKLY)
    assert adjusted.severity > 0.8


def test_seasonal_state_round_trips_and_keeps_only_history() -> None:
    state = seasonality.SeasonalState()
    for w in range(6):
        seasonality.learn([sig(severity=w / 10, feature="x")], T0 + timedelta(weeks=w), state,
                          WEEKLY)
    values = next(iter(next(iter(state.past.values())).values()))
    assert values == [0.2, 0.3, 0.4, 0.5]
    assert seasonality.SeasonalState.from_dict(state.to_dict()) == state


def test_unknown_slot_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InputError, match="hour_of_week"):
        SeasonalityConfig(slot="month")


def test_context_weighs_criticality_regulation_impact_and_age() -> None:
    f = ContextFactors()
    base, _ = context_multiplier(ModelContext(), f)
    high, reasons = context_multiplier(
        ModelContext(criticality="high", regulatory=True, customer_impact="high", age_days=3), f)
    assert base == 1.0
    assert high == pytest.approx(1.25 * 1.15 * 1.15 * 1.1)
    assert "regulatory exposure" in reasons and any("3 days" in r for r in reasons)
    with pytest.raises(InputError, match="low, medium, high"):
        context_multiplier(ModelContext(criticality="extreme"), f)


def test_same_evidence_reaches_a_higher_tier_on_a_critical_regulated_model() -> None:
    cfg = ScoringConfig()
    signals = [sig(K.LATENCY, 0.55)]
    low, _ = score_window(window(0), signals, cfg, ModelState(),
                          context=ModelContext(criticality="low"))
    high, _ = score_window(window(0), signals, cfg, ModelState(),
                           context=ModelContext(criticality="high", regulatory=True))
    assert high.score.raw_tier > low.score.raw_tier
    assert "regulatory exposure" in high.score.summary


def test_context_from_a_policy_model_mapping() -> None:
    ctx = ModelContext.from_model({"criticality": "high", "regulatory": True,
                                   "customer_impact": True}, age_days=40)
    assert ctx == ModelContext("high", True, "high", 40)


def test_explanation_names_top_contributors_with_share_effect_and_interval() -> None:
    cfg = ScoringConfig()
    signals = [sig(severity=0.95, feature="income", effect_size=0.42, p_value=1e-6),
               sig(K.LATENCY, 0.6, method="p99", effect_size=0.3,
                   details={"interval": [0.2, 0.4]}),
               sig(severity=0.1, feature="age")]
    scored, _ = score_window(window(0), signals, cfg, ModelState())
    top = scored.score.contributors
    assert [c.feature for c in top] == ["income", None]
    assert top[0].share > top[1].share and sum(c.share for c in top) == pytest.approx(1.0)
    lo, hi = top[0].interval
    assert lo < 0.42 < hi
    assert top[1].interval == (0.2, 0.4)
    assert "income" in top[0].text and "% of the score" in top[0].text
    summary = scored.score.summary
    assert summary.startswith("m scored") and "input 'income' shifted" in summary
    assert "Not yet confirmed" in summary  # one window of T3 is not yet persistent
    assert scored.score.config_version == cfg.version


def test_healthy_window_says_so() -> None:
    scored, _ = score_window(window(0), [sig(severity=0.05)], ScoringConfig(), ModelState())
    assert scored.score.value == 0 and "healthy" in scored.score.summary


def test_wald_interval_needs_a_p_value_and_an_effect() -> None:
    assert effect_interval(sig(effect_size=0.3)) is None
    assert effect_interval(sig(effect_size=0.3, p_value=1.0)) is None
    lo, hi = effect_interval(sig(effect_size=0.3, p_value=0.05))
    assert lo == pytest.approx(0.0, abs=1e-3) and hi == pytest.approx(0.6, abs=1e-3)


def test_a_held_tier_explains_why_it_stays_up() -> None:
    cfg = ScoringConfig()
    state = ModelState()
    for i in range(2):
        _, state = score_window(window(i), [sig(K.LATENCY, 0.95)], cfg, state)
    scored, _ = score_window(window(2), [], cfg, state)
    assert scored.score.tier > Tier.T0 and scored.score.value == 0
    assert "stays at" in scored.score.summary and "healthy" not in scored.score.summary
