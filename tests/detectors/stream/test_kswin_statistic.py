"""KSWIN's compiled test decides exactly as scipy's two-sample KS test with River's rule
(p-value <= alpha and statistic > 0.1), ties included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from watchkeeper.detectors.stream.kswin import _ks_count, _sort, critical_count


@pytest.mark.filterwarnings("ignore:ks_2samp:RuntimeWarning")
@pytest.mark.parametrize("stat_size", [10, 30, 60])
@pytest.mark.parametrize("alpha", [0.05, 0.005, 1e-4])
def test_count_threshold_reproduces_scipy_decisions(stat_size: int, alpha: float) -> None:
    rng = np.random.default_rng(stat_size)
    k_crit = critical_count(stat_size, alpha)
    decisions = set()
    for trial in range(300):
        shift = rng.uniform(0, 2)
        a = rng.normal(0, 1, stat_size)
        b = rng.normal(shift, 1, stat_size)
        if trial % 3 == 0:  # ties, as on error streams
            a, b = np.round(a), np.round(b)
        res = stats.ks_2samp(a, b, method="auto")
        a_sorted, b_sorted = np.sort(a), b.copy()
        _sort(b_sorted)
        assert np.array_equal(b_sorted, np.sort(b))
        count = _ks_count(a_sorted, b_sorted)
        assert count / stat_size == pytest.approx(res.statistic, abs=1e-12)
        river_rule = res.pvalue <= alpha and res.statistic > 0.1
        assert (count >= k_crit) == river_rule
        decisions.add(river_rule)
    assert decisions == {True, False}, "both outcomes must occur for the check to mean anything"
