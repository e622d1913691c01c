from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.core.enums import SignalKind as K
from watchkeeper.scoring.config import ScoringConfig
from watchkeeper.scoring.fusion import fuse, hazard_for_score, score_from_hazard

from .helpers import sig

CFG = ScoringConfig()


def test_no_signals_and_noise_below_the_floor_score_zero() -> None:
    assert fuse([], CFG).value == 0
    assert fuse([sig(severity=0.2), sig(K.LATENCY, 0.1)], CFG).value == 0


def test_one_failing_part_is_not_hidden_by_many_healthy_ones() -> None:
    alone = fuse([sig(severity=0.9, feature="income")], CFG).value
    crowd = [sig(severity=0.9, feature="income")] + [
        sig(severity=0.0, feature=f"f{i}") for i in range(49)
    ] + [sig(k, 0.0) for k in K if k is not K.DATA_DRIFT]
    assert fuse(crowd, CFG).value == pytest.approx(alone)
    mean_of_severities = 100 * 0.9 / len(crowd)  # what averaging would say
    assert alone > 80 > mean_of_severities


def test_many_weak_parts_add_up_sub_linearly() -> None:
    one = fuse([sig(severity=0.3, feature="a")], CFG)
    fifty = fuse([sig(severity=0.3, feature=f"f{i}") for i in range(50)], CFG)
    e_one = one.kind_evidence[K.DATA_DRIFT]
    assert fifty.kind_evidence[K.DATA_DRIFT] == pytest.approx(e_one * 50 ** 0.25)
    assert fifty.kind_evidence[K.DATA_DRIFT] < 50 * e_one / 10


def test_independent_kinds_reinforce_like_a_noisy_or() -> None:
    a = fuse([sig(K.LATENCY, 0.6)], CFG).value / 100
    b = fuse([sig(K.CALIBRATION, 0.6)], CFG).value / 100
    both = fuse([sig(K.LATENCY, 0.6), sig(K.CALIBRATION, 0.6)], CFG).value / 100
    assert both == pytest.approx(1 - (1 - a) * (1 - b))


def test_shares_sum_to_one_and_follow_the_hazard() -> None:
    f = fuse([sig(severity=0.9, feature="x"), sig(severity=0.5, feature="y"),
              sig(K.LATENCY, 0.7)], CFG)
    assert sum(p.share for p in f.parts) == pytest.approx(1.0)
    assert [p.share for p in f.parts] == sorted((p.share for p in f.parts), reverse=True)
    assert f.parts[0].signal.feature == "x"


def test_feature_importance_discounts_unimportant_features_only() -> None:
    imp = {"income": 1.0, "zip": 0.1}
    important = fuse([sig(severity=0.8, feature="income")], CFG, importance=imp).value
    minor = fuse([sig(severity=0.8, feature="zip")], CFG, importance=imp).value
    unknown = fuse([sig(severity=0.8, feature="new")], CFG, importance=imp).value
    assert minor < important == pytest.approx(unknown)


def test_kind_weight_zero_ignores_that_kind() -> None:
    cfg = ScoringConfig(weights={**CFG.weights, K.LATENCY: 0.0})
    assert fuse([sig(K.LATENCY, 1.0)], cfg).value == 0


def test_catastrophic_signal_reaches_t3_even_with_low_weight() -> None:
    cfg = ScoringConfig(weights={**CFG.weights, K.DATA_QUALITY: 0.1})
    f = fuse([sig(K.DATA_QUALITY, 1.0, feature="income", catastrophic=True)], cfg)
    assert f.catastrophic and f.value >= cfg.bands.t3


def test_context_multiplier_scales_hazard_but_never_creates_a_score() -> None:
    assert fuse([], CFG, multiplier=2.0).value == 0
    low = fuse([sig(K.LATENCY, 0.6)], CFG, multiplier=0.8)
    high = fuse([sig(K.LATENCY, 0.6)], CFG, multiplier=1.5)
    assert high.hazard == pytest.approx(low.hazard * 1.5 / 0.8)
    with pytest.raises(ValueError):
        fuse([], CFG, multiplier=math.nan)


def test_hazard_and_score_are_inverse() -> None:
    for v in (0.0, 12.5, 60.0, 99.0):
        assert score_from_hazard(hazard_for_score(v)) == pytest.approx(v)


severities = st.lists(st.floats(0, 1), min_size=1, max_size=20)


@given(severities, st.integers(0, 19), st.floats(0, 1))
def test_score_is_monotone_in_every_severity(values: list[float], i: int, bump: float) -> None:
    i %= len(values)
    before = fuse([sig(severity=v, feature=f"f{j}") for j, v in enumerate(values)], CFG).value
    raised = list(values)
    raised[i] = min(1.0, raised[i] + bump)
    after = fuse([sig(severity=v, feature=f"f{j}") for j, v in enumerate(raised)], CFG).value
    assert after >= before - 1e-9
    assert 0 <= after <= 100


@given(severities)
def test_fusion_is_deterministic_and_order_free(values: list[float]) -> None:
    signals = [sig(severity=v, feature=f"f{j}") for j, v in enumerate(values)]
    a, b = fuse(signals, CFG), fuse(list(reversed(signals)), CFG)
    assert a.value == pytest.approx(b.value, abs=1e-9)
