"""Cramér-von Mises two-sample test: the mean squared gap between the two CDFs over the pooled
sample. More sensitive than KS to changes spread over the whole distribution.

Raw form: `scipy.stats.cramervonmises_2samp` itself (midranks for ties, exact p-value up to 20
values per side, asymptotic beyond), so the raw statistic *is* scipy's; it needs two values per
side.
Sketch form: T ~ n*m/N * sum_i h_i * D_i^2, with D_i the CDF gap at the right edge of bin i and
h_i the pooled mass of the bin; p-value from the same normalisation and limiting distribution
scipy uses for large samples (Anderson 1962, Csörgő and Faraway 1996). Inside bin i the gap moves
by at most delta_i = r_i + c_i (plus the rank errors), which gives the bound in `sketch_bound`.
"""

from __future__ import annotations

import math

import numpy as np

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.drift.base import NUMERIC_TYPES, Direction, DriftMethod, Statistic
from watchkeeper.detectors.drift.samples import NumericBins, NumericSample


def limiting_cdf(x: float) -> float:
    """CDF of the limiting Cramér-von Mises distribution (series of Anderson and Darling 1952,
    eq. 1.3 of Csörgő and Faraway 1996); scipy keeps its version private, hence written here."""
    from scipy.special import gammaln, kv

    if x <= 0:
        return 0.0
    total, k = 0.0, 0
    while True:
        y = 4 * k + 1
        q = y * y / (16 * x)
        term = (
            math.exp(gammaln(k + 0.5) - gammaln(k + 1))
            / (math.pi**1.5 * math.sqrt(x))
            * math.sqrt(y)
            * math.exp(-q)
            * float(kv(0.25, q))
        )
        total += term
        k += 1
        if abs(term) < 1e-10 or k > 200:
            return min(total, 1.0)


def asymptotic_p_value(t: float, n: int, m: int) -> float:
    big_n, k = n + m, n * m
    et = (1 + 1 / big_n) / 6
    vt = (big_n + 1) * (4 * k * big_n - 3 * (n * n + m * m) - 2 * k) / (45 * big_n**2 * 4 * k)
    tn = 1 / 6 + (t - et) / math.sqrt(45 * vt)
    return 1.0 if tn < 0.003 else max(0.0, 1.0 - limiting_cdf(tn))


def on_sample(ref: NumericSample, cur: NumericSample) -> Statistic:
    from scipy import stats

    if ref.n < 2 or cur.n < 2:
        raise InputError(
            "the Cramér-von Mises test needs at least two values per side",
            field="cramervonmises",
            expected=">= 2 values in each sample",
        )
    result = stats.cramervonmises_2samp(ref.values, cur.values)
    return Statistic(float(result.statistic), float(result.pvalue))


def _pieces(bins: NumericBins) -> tuple[float, float, np.ndarray, np.ndarray]:
    n, m = float(bins.ref_counts.sum()), float(bins.cur_counts.sum())
    d = np.cumsum(bins.ref_fractions) - np.cumsum(bins.cur_fractions)
    pooled = (bins.ref_counts + bins.cur_counts) / (n + m)
    return n, m, d, pooled


def on_bins(bins: NumericBins) -> Statistic:
    n, m, d, pooled = _pieces(bins)
    if n < 2 or m < 2:
        raise InputError(
            "the Cramér-von Mises test needs at least two values per side",
            field="cramervonmises",
            expected=">= 2 values in each sample",
        )
    t = float(n * m / (n + m) * (pooled * d * d).sum())
    return Statistic(t, asymptotic_p_value(t, round(n), round(m)))


def sketch_bound(bins: NumericBins) -> float:
    n, m, d, pooled = _pieces(bins)
    er, ec = bins.ref_rank_error, bins.cur_rank_error
    delta = bins.ref_fractions + bins.cur_fractions + 3 * (er + ec)
    h_err = 2 * max(er, ec)
    scale = n * m / (n + m)
    t = scale * float((pooled * d * d).sum())
    high = scale * float(((pooled + h_err) * (np.abs(d) + delta) ** 2).sum())
    low = scale * float(
        (np.maximum(pooled - h_err, 0) * np.maximum(np.abs(d) - delta, 0) ** 2).sum()
    )
    return max(high - t, t - low)


METHOD = DriftMethod(
    id="cramervonmises",
    name="Cramér-von Mises test",
    feature_types=NUMERIC_TYPES,
    default_threshold=0.05,
    direction=Direction.P_VALUE_BELOW,
    summary="mean squared gap between the CDFs; p-value from its null distribution",
    on_sample=on_sample,
    on_bins=on_bins,
    on_counts=None,
    sketch_bound=sketch_bound,
)
