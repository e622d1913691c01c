"""Prediction drift agrees with scipy and needs a real effect; latency vs budget."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.performance import (
    class_drift,
    latency_percentiles,
    latency_vs_budget,
    score_drift,
)


def test_score_drift_uses_ks_and_flags_a_moved_distribution():
    rng = np.random.default_rng(2)
    ref = rng.beta(2, 5, size=5000)
    cur = rng.beta(3, 4, size=5000)
    r = score_drift(ref, cur)
    expected = stats.ks_2samp(ref, cur)
    assert r.statistic == pytest.approx(expected.statistic)
    assert r.p_value == pytest.approx(expected.pvalue)
    assert r.flagged and r.severity > 0.5


def test_trivial_score_shift_on_a_huge_sample_is_not_an_alarm():
    rng = np.random.default_rng(2)
    ref = rng.normal(size=400_000)
    cur = rng.normal(0.02, 1, size=400_000)
    r = score_drift(ref, cur)
    assert r.p_value < 0.05 and not r.flagged


def test_class_drift_matches_chi_square_and_names_the_moved_class():
    ref = {"approve": 700, "review": 200, "reject": 100}
    cur = {"approve": 400, "review": 200, "reject": 400}
    r = class_drift(ref, cur)
    chi2, p, _, _ = stats.chi2_contingency(
        [[700, 100, 200], [400, 400, 200]], correction=False
    )
    assert r.statistic == pytest.approx(chi2) and r.p_value == pytest.approx(p)
    assert r.flagged and "reject share 10.0% -> 40.0%" in r.evidence
    assert not class_drift(ref, ref).flagged


def test_latency_percentiles_and_budget():
    lat = np.arange(1, 1001, dtype=float)
    pct = latency_percentiles(lat)
    assert pct == {k: pytest.approx(np.percentile(lat, q)) for k, q in
                   (("p50", 50), ("p95", 95), ("p99", 99))}
    results = latency_vs_budget(pct, {"p99": 900, "p50": 600}, n=1000)
    assert [r.metric for r in results] == ["latency_p99_ms", "latency_p50_ms"]
    assert results[0].flagged and not results[1].flagged
    assert results[0].severity > 0.5 and results[1].severity == 0.0
    assert "budget 900 ms" in results[0].evidence


def test_latency_refuses_negative_and_unknown_percentiles():
    with pytest.raises(InputError) as err:
        latency_percentiles([1.0, -2.0])
    assert err.value.row == 1
    with pytest.raises(InputError, match="p999"):
        latency_vs_budget({"p50": 1.0}, {"p999": 5})


def test_any_drift_catalogue_method_can_judge_predictions():
    rng = np.random.default_rng(4)
    ref, cur = rng.beta(2, 5, size=5000), rng.beta(3, 4, size=5000)
    psi = score_drift(ref, cur, method="psi")
    assert psi.method == "psi" and psi.p_value is None and psi.flagged
    assert "statistic" in psi.evidence and psi.details["direction"] == "statistic >= threshold"
    with pytest.raises(InputError, match="unknown drift method"):
        score_drift(ref, cur, method="kolmogorov")
