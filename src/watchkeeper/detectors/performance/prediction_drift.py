"""Prediction drift: has the distribution of the model's outputs moved from the reference?

A moved output distribution is often the first sign of trouble and needs no labels. Scores
(probabilities, regression outputs) use the two-sample Kolmogorov-Smirnov test; predicted
classes use a chi-square test on the class counts (Cramér's V as effect size). Both require
significance *and* a minimum effect (``min_effect``), so large windows do not alarm on trivial
shifts.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import stats

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.performance._validate import ArrayLike, numbers
from watchkeeper.detectors.performance.result import PerformanceResult
from watchkeeper.detectors.severity import severity

METRIC = "prediction"


def score_drift(
    reference: ArrayLike, current: ArrayLike, *, alpha: float = 0.05, min_effect: float = 0.1
) -> PerformanceResult:
    """KS test on continuous outputs; the effect size is the KS distance (max CDF gap)."""
    ref, cur = numbers(reference, "reference"), numbers(current, "current")
    for name, arr in (("reference", ref), ("current", cur)):
        if arr.size == 0:
            raise InputError("no predictions", field=name, expected="at least one prediction")
    res = stats.ks_2samp(ref, cur)
    d, p = float(res.statistic), float(res.pvalue)
    flagged = d >= min_effect and p <= alpha
    shift = float(np.median(cur) - np.median(ref))
    return PerformanceResult(
        method="ks", metric=METRIC, statistic=d, threshold=min_effect, effect_size=d,
        flagged=flagged, severity=severity(d, min_effect, p, alpha=alpha), p_value=p,
        evidence=(f"prediction distribution moved: KS distance {d:.3f} (flags at "
                  f"{min_effect:g} with p<={alpha}), p={p:.2g}, median {np.median(ref):.3g} -> "
                  f"{np.median(cur):.3g}."),
        details={"median_shift": shift, "n_reference": int(ref.size), "n_current": int(cur.size)},
    )


def class_drift(
    reference_counts: Mapping[object, int], current_counts: Mapping[object, int], *,
    alpha: float = 0.05, min_effect: float = 0.1,
) -> PerformanceResult:
    """Chi-square on predicted-class counts; effect size is Cramér's V of the 2 x k table."""
    classes = sorted(set(reference_counts) | set(current_counts), key=str)
    table = np.array([[reference_counts.get(c, 0) for c in classes],
                      [current_counts.get(c, 0) for c in classes]], dtype=float)
    if (table < 0).any() or (table.sum(axis=1) == 0).any():
        raise InputError("empty or negative class counts", field="current_counts",
                         expected="non-negative counts with at least one prediction per side")
    keep = table.sum(axis=0) > 0
    table = table[:, keep]
    classes = [c for c, k in zip(classes, keep, strict=True) if k]
    if table.shape[1] < 2:
        chi2, p, v = 0.0, 1.0, 0.0
    else:
        chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
        v = float(np.sqrt(chi2 / table.sum()))  # 2 rows: min(r, c) - 1 == 1
    ref_share = table[0] / table[0].sum()
    cur_share = table[1] / table[1].sum()
    moved = int(np.argmax(np.abs(cur_share - ref_share)))
    return PerformanceResult(
        method="chisquare", metric=METRIC, statistic=float(chi2), threshold=min_effect,
        effect_size=v, flagged=v >= min_effect and p <= alpha,
        severity=severity(v, min_effect, float(p), alpha=alpha), p_value=float(p),
        evidence=(f"predicted-class mix moved: Cramér's V {v:.3f} (flags at {min_effect:g} with "
                  f"p<={alpha}), p={p:.2g}; class {classes[moved]!s} share "
                  f"{ref_share[moved]:.1%} -> {cur_share[moved]:.1%}."),
        details={"classes": [str(c) for c in classes]},
    )
