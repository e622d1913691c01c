"""Missing-rate change: has the share of missing values grown since the reference?

Two conditions, both required (so ten million rows cannot turn a 0.01-point rise into an
alarm): a one-sided two-proportion z-test (pooled variance) at ``alpha``, and an absolute
increase of at least ``min_increase``. A feature that is entirely missing in a non-empty window
while the reference had data is catastrophic: the feature stopped arriving.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from watchkeeper.detectors.quality._checks import count, fraction, part_of, positive
from watchkeeper.detectors.quality.result import QualityResult
from watchkeeper.detectors.severity import severity

METHOD = "missing_rate"


def missing_rate_change(
    reference_missing: int,
    reference_total: int,
    current_missing: int,
    current_total: int,
    *,
    feature: str | None = None,
    alpha: float = 0.05,
    min_increase: float = 0.05,
) -> QualityResult:
    """Compare missing counts of the reference and the current window."""
    ref_miss = count(reference_missing, "reference_missing")
    ref_n = count(reference_total, "reference_total")
    cur_miss = count(current_missing, "current_missing")
    cur_n = count(current_total, "current_total")
    part_of(ref_miss, ref_n, "reference_missing", "reference_total")
    part_of(cur_miss, cur_n, "current_missing", "current_total")
    fraction(alpha, "alpha", allow_zero=False)
    positive(min_increase, "min_increase")
    name = feature or "the window"

    if cur_n == 0:
        return QualityResult(
            method=METHOD, statistic=math.nan, threshold=min_increase, effect_size=0.0,
            flagged=False, severity=0.0, feature=feature, p_value=None,
            evidence=f"{name}: no rows in the current window, missing rate undefined.",
            details={"current_total": 0},
        )
    cur_rate = cur_miss / cur_n
    ref_rate = ref_miss / ref_n if ref_n else 0.0
    increase = cur_rate - ref_rate
    p_value = _two_proportion_p(ref_miss, ref_n, cur_miss, cur_n)
    flagged = increase >= min_increase and p_value <= alpha
    catastrophic = cur_miss == cur_n and ref_rate < 1.0
    sev = 1.0 if catastrophic else severity(increase, min_increase, p_value, alpha=alpha)
    evidence = (
        f"{name}: missing rate {cur_rate:.1%} in {cur_n:,} rows vs {ref_rate:.1%} in reference "
        f"(+{increase * 100:.1f} points, p={p_value:.2g}; flags at +{min_increase * 100:.1f} "
        f"points and p<={alpha})."
    )
    if catastrophic:
        evidence = f"{name}: every one of {cur_n:,} values is missing (reference {ref_rate:.1%})."
    return QualityResult(
        method=METHOD, statistic=cur_rate, threshold=min_increase, effect_size=increase,
        flagged=flagged or catastrophic, severity=sev, feature=feature, p_value=p_value,
        catastrophic=catastrophic, evidence=evidence,
        details={"reference_rate": ref_rate, "current_rate": cur_rate,
                 "reference_total": ref_n, "current_total": cur_n, "alpha": alpha},
    )


def missing_rate_change_arrays(
    reference: Sequence[object] | np.ndarray,
    current: Sequence[object] | np.ndarray,
    *,
    feature: str | None = None,
    alpha: float = 0.05,
    min_increase: float = 0.05,
) -> QualityResult:
    """Same check on raw values; None and float NaN count as missing."""
    ref_miss, ref_n = count_missing(reference)
    cur_miss, cur_n = count_missing(current)
    return missing_rate_change(
        ref_miss, ref_n, cur_miss, cur_n, feature=feature, alpha=alpha, min_increase=min_increase
    )


def count_missing(values: Sequence[object] | np.ndarray) -> tuple[int, int]:
    """(missing, total) where None and NaN are missing."""
    arr = np.asarray(values, dtype=object if not isinstance(values, np.ndarray) else None)
    if arr.dtype.kind == "f":
        return int(np.isnan(arr).sum()), int(arr.size)
    if arr.dtype.kind == "O":
        missing = sum(1 for v in arr.ravel() if v is None or (isinstance(v, float) and v != v))
        return missing, int(arr.size)
    return 0, int(arr.size)


def _two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """One-sided p-value that proportion 2 exceeds proportion 1 (pooled z-test).

    Hand-written because scipy has no two-proportion z-test; it is five lines and the
    normal approximation is standard for the window sizes monitoring deals in.
    """
    if n1 == 0:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    diff = x2 / n2 - x1 / n1
    if var == 0:
        return 1.0 if diff <= 0 else 0.0
    return float(stats.norm.sf(diff / math.sqrt(var)))
