"""Prediction drift: has the distribution of the model's outputs moved from the reference?

A moved output distribution is often the first sign of trouble and needs no labels. This runs
the univariate drift catalogue (`detectors.drift`) on the outputs: scores (probabilities,
regression outputs) by default with Kolmogorov-Smirnov, predicted classes with chi-square, or
any catalogue method by id. As for features, drift needs the method's verdict *and* an effect
size of at least ``min_effect`` (the routine's Wasserstein effect: a shift in reference sds, or
the share of class mass that moved), so large windows do not alarm on trivial shifts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from watchkeeper.core.enums import FeatureType
from watchkeeper.core.errors import InputError
from watchkeeper.detectors.drift import (
    CategoricalCounts,
    DriftRules,
    FeatureDrift,
    Measurement,
    NumericSample,
    decide,
    get_method,
    measure,
)
from watchkeeper.detectors.drift.base import Direction
from watchkeeper.detectors.performance._validate import ArrayLike, numbers
from watchkeeper.detectors.performance.result import PerformanceResult
from watchkeeper.detectors.severity import drift_severity

METRIC = "prediction"


def score_drift(
    reference: ArrayLike, current: ArrayLike, *, method: str = "ks", alpha: float = 0.05,
    min_effect: float = 0.1,
) -> PerformanceResult:
    """Continuous outputs through drift method ``method`` (default Kolmogorov-Smirnov)."""
    ref, cur = numbers(reference, "reference"), numbers(current, "current")
    for name, arr in (("reference", ref), ("current", cur)):
        if arr.size == 0:
            raise InputError("no predictions", field=name, expected="at least one prediction")
    data = (NumericSample.prepare(ref, field="reference"),
            NumericSample.prepare(cur, field="current"))
    result = _judge(FeatureType.NUMERIC, data, method, alpha, min_effect)
    shift = float(np.median(cur) - np.median(ref))
    return _with(result, f"median {np.median(ref):.3g} -> {np.median(cur):.3g}",
                 {"median_shift": shift, "n_reference": int(ref.size), "n_current": int(cur.size)})


def class_drift(
    reference_counts: Mapping[object, int], current_counts: Mapping[object, int], *,
    method: str = "chisquare", alpha: float = 0.05, min_effect: float = 0.1,
) -> PerformanceResult:
    """Predicted-class counts through drift method ``method`` (default chi-square)."""
    ref = {str(k): float(v) for k, v in reference_counts.items()}
    cur = {str(k): float(v) for k, v in current_counts.items()}
    data = CategoricalCounts.from_dicts(ref, cur, field="current_counts")
    result = _judge(FeatureType.CATEGORICAL, data, method, alpha, min_effect)
    ref_share = data.ref / data.ref.sum()
    cur_share = data.cur / data.cur.sum()
    moved = int(np.argmax(np.abs(cur_share - ref_share)))
    note = (f"class {data.categories[moved]} share {ref_share[moved]:.1%} -> "
            f"{cur_share[moved]:.1%}")
    return _with(result, note, {"classes": list(data.categories)})


@dataclass(frozen=True, slots=True)
class _Judged:
    measurement: Measurement
    verdict: FeatureDrift
    alpha: float
    min_effect: float


def _judge(
    kind: FeatureType, data: CategoricalCounts | tuple[NumericSample, NumericSample],
    method: str, alpha: float, min_effect: float,
) -> _Judged:
    entry = get_method(method)
    threshold = alpha if entry.direction is Direction.P_VALUE_BELOW else None
    m = measure(METRIC, kind, data, method, threshold)
    return _Judged(m, decide([m], DriftRules(min_effect=min_effect)).features[0], alpha,
                   min_effect)


def _with(j: _Judged, note: str, details: dict[str, object]) -> PerformanceResult:
    m, f = j.measurement, j.verdict
    verdict = "moved" if f.drifted else "did not move beyond tolerance"
    test = (f"p={m.p_value:.2g}, alpha {m.threshold:g}" if m.p_value is not None
            else f"threshold {m.threshold:g}")
    return PerformanceResult(
        method=m.method, metric=METRIC, statistic=m.statistic, threshold=m.threshold,
        effect_size=m.effect_size, flagged=f.drifted,
        severity=drift_severity(m.effect_size, m.p_value, min_effect=j.min_effect,
                                alpha=j.alpha),
        p_value=m.p_value,
        evidence=(f"prediction distribution {verdict}: {m.method} statistic {m.statistic:.3g} "
                  f"({test}), effect {m.effect_size:.3f} against a minimum of "
                  f"{j.min_effect:g}; {note}."),
        details={**details, "direction": m.direction.value, "significant": f.significant},
    )
