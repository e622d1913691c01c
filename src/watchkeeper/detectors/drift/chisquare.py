"""Pearson chi-square test of homogeneity on the 2 x K table (reference, current) x bins.

Statistic n*m/(n+m) * sum (p - q)^2 / w with w = (n*p + m*q)/(n+m) the pooled fraction; equals
`scipy.stats.chi2_contingency(table, correction=False)`. Categories or bins empty on both sides
carry no information and are left out; degrees of freedom = (non-empty cells) - 1. Numeric data
uses ten reference-decile bins. p-value from the chi-square distribution (`scipy.special`).
Sketch form: bounded by the corner interval of `divergence.py` on the statistic.
"""

from __future__ import annotations

import numpy as np

from watchkeeper.detectors.drift import divergence
from watchkeeper.detectors.drift.base import (
    CATEGORICAL_TYPES,
    NUMERIC_TYPES,
    Direction,
    DriftMethod,
    Statistic,
)
from watchkeeper.detectors.drift.samples import CategoricalCounts, NumericBins, NumericSample


def _term(n: float, m: float) -> divergence.Term:
    def term(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        pooled = (n * p + m * q) / (n + m)
        safe = np.where(pooled > 0, pooled, 1.0)
        return np.where(pooled > 0, (p - q) ** 2 / safe, 0.0) * (n * m / (n + m))

    return term


def _chisquare(counts: CategoricalCounts | NumericBins) -> Statistic:
    from scipy.special import chdtrc

    n, m = (
        (float(counts.ref_counts.sum()), float(counts.cur_counts.sum()))
        if isinstance(counts, NumericBins)
        else (float(counts.ref.sum()), float(counts.cur.sum()))
    )
    p, q = divergence.fractions(counts)
    cells = int(np.count_nonzero((p > 0) | (q > 0)))
    stat = float(_term(n, m)(p, q).sum())
    if cells < 2:  # one category on both sides: nothing can differ
        return Statistic(0.0, 1.0)
    return Statistic(stat, float(chdtrc(cells - 1, stat)))


def on_bins(bins: NumericBins) -> Statistic:
    return _chisquare(bins.coarsen(divergence.N_BINS))


def on_sample(ref: NumericSample, cur: NumericSample) -> Statistic:
    return _chisquare(divergence.numeric_bins(ref, cur))


def sketch_bound(bins: NumericBins) -> float:
    return divergence.sketch_bound(
        bins, _term(bins.ref_counts.sum(), bins.cur_counts.sum()), lambda s: s
    )


METHOD = DriftMethod(
    id="chisquare",
    name="Chi-square test",
    feature_types=NUMERIC_TYPES | CATEGORICAL_TYPES,
    default_threshold=0.05,
    direction=Direction.P_VALUE_BELOW,
    summary="Pearson chi-square test of homogeneity of category (or decile) frequencies",
    on_sample=on_sample,
    on_bins=on_bins,
    on_counts=_chisquare,
    sketch_bound=sketch_bound,
)
