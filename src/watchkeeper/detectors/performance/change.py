"""Judge a metric against its reference value and against a KPI bound.

``metric_change`` flags a degradation of at least ``min_drop`` (absolute, in the metric's own
units) that is also larger than sampling noise when a standard error is known;
``kpi_check`` compares a value with the policy's ``min``/``max`` (``kpis: [{metric: f1,
min: 0.8}]``). Both map severity through ``watchkeeper.detectors.severity``.
"""

from __future__ import annotations

import math

from scipy import stats

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.performance.result import PerformanceResult
from watchkeeper.detectors.severity import severity, severity_over_budget

# Whether a larger value is better, for every metric name this package produces.
HIGHER_IS_BETTER = {
    "accuracy": True, "precision": True, "recall": True, "f1": True, "roc_auc": True,
    "r2": True, "log_loss": False, "ece": False, "mae": False, "rmse": False, "mape": False,
}


def higher_is_better(metric: str) -> bool:
    if metric.startswith("latency_"):
        return False
    try:
        return HIGHER_IS_BETTER[metric]
    except KeyError:
        known = ", ".join(sorted(HIGHER_IS_BETTER))
        raise InputError(f"unknown metric {metric!r}", field="metric",
                         expected=f"one of {known}, or latency_p50_ms/p95/p99") from None


def metric_change(
    metric: str,
    reference: float,
    current: float,
    *,
    min_drop: float,
    standard_error: float | None = None,
    alpha: float = 0.05,
    method: str = "realised",
    segment: str | None = None,
    interval: tuple[float, float] | None = None,
) -> PerformanceResult:
    """Flag ``current`` worse than ``reference`` by at least ``min_drop``.

    With ``standard_error`` (of the difference) a one-sided z-test gives the p-value, and a drop
    must also be significant at ``alpha``.
    """
    up = higher_is_better(metric)
    for name, value in (("reference", reference), ("current", current)):
        if not math.isfinite(value):
            raise InputError(f"got {value!r}", field=name, expected="a finite metric value")
    if not (math.isfinite(min_drop) and min_drop > 0):
        raise InputError(f"got {min_drop!r}", field="min_drop", expected="a positive number")
    drop = (reference - current) if up else (current - reference)
    p_value = None
    if standard_error is not None and standard_error > 0:
        p_value = float(stats.norm.sf(drop / standard_error))
    elif standard_error is not None:  # zero noise: the drop is certain either way
        p_value = 0.0 if drop > 0 else 1.0
    flagged = drop >= min_drop and (p_value is None or p_value <= alpha)
    where = f" in segment {segment}" if segment else ""
    word = "fell" if up else "rose"
    noise = f", p={p_value:.2g}" if p_value is not None else ""
    ci = f" (95% interval {interval[0]:.3f}..{interval[1]:.3f})" if interval else ""
    evidence = (
        f"{method} {metric}{where} {word} from {reference:.3f} to {current:.3f}{ci}, a change of "
        f"{drop:+.3f} against a tolerance of {min_drop:.3f}{noise}."
    )
    return PerformanceResult(
        method=method, metric=metric, statistic=float(current), threshold=float(min_drop),
        effect_size=float(drop), flagged=flagged,
        severity=severity(drop, min_drop, p_value, alpha=alpha), evidence=evidence,
        p_value=p_value, interval=interval, segment=segment,
        details={"reference": reference, "higher_is_better": up},
    )


def kpi_check(
    metric: str,
    value: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    method: str = "kpi",
    segment: str | None = None,
    standard_error: float | None = None,
    alpha: float = 0.05,
) -> PerformanceResult:
    """Compare a value with a KPI bound: exactly one of ``minimum`` / ``maximum``.

    With ``standard_error`` (the sampling error of ``value``) a breach must also be significant
    at ``alpha`` (one-sided z-test): an F1 of 0.38 on 60 positives is not evidence that a 0.40
    KPI is missed."""
    if (minimum is None) == (maximum is None):
        raise InputError("give exactly one bound", field="kpi", expected="min or max")
    bound = float(minimum if minimum is not None else maximum)  # type: ignore[arg-type]
    lower_bound = minimum is not None
    breached = value < bound if lower_bound else value > bound
    p_value = None
    if standard_error is not None and standard_error > 0 and math.isfinite(standard_error):
        excess_ = (bound - value) if lower_bound else (value - bound)
        p_value = float(stats.norm.sf(excess_ / standard_error))
        breached = breached and p_value <= alpha
    sev = severity_over_budget(value, bound, higher_is_worse=not lower_bound) if bound else (
        1.0 if breached else 0.0
    )
    where = f" in segment {segment}" if segment else ""
    rel = "at least" if lower_bound else "at most"
    noise = f" (p={p_value:.2g})" if p_value is not None else ""
    evidence = (
        f"{metric}{where} is {value:.4g}, KPI requires {rel} {bound:.4g}"
        + (f" — breached{noise}." if breached else f" — met or within noise{noise}.")
    )
    excess = (bound - value) if lower_bound else (value - bound)
    return PerformanceResult(
        method=method, metric=metric, statistic=float(value), threshold=bound, p_value=p_value,
        effect_size=float(excess), flagged=breached, severity=sev if breached else 0.0,
        evidence=evidence, segment=segment, details={"bound": "min" if lower_bound else "max"},
    )
