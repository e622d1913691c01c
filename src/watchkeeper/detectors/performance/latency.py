"""Latency percentiles (p50/p95/p99) against a budget (``kpis: [{metric: latency_p99_ms,
max: 250}]``). Severity is the relative excess over the budget (see severity_over_budget)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.performance._validate import ArrayLike, numbers
from watchkeeper.detectors.performance.result import PerformanceResult
from watchkeeper.detectors.severity import severity_over_budget

METHOD = "latency"
PERCENTILES = {"p50": 50.0, "p95": 95.0, "p99": 99.0}


def latency_percentiles(latencies_ms: ArrayLike) -> dict[str, float]:
    """p50, p95 and p99 of the latencies (linear interpolation, as numpy's default)."""
    arr = numbers(latencies_ms, "latencies_ms")
    if arr.size == 0:
        raise InputError("no latencies", field="latencies_ms", expected="at least one value")
    if (arr < 0).any():
        row = int(np.flatnonzero(arr < 0)[0])
        raise InputError(f"negative latency {arr[row]}", field="latencies_ms", row=row,
                         expected="durations >= 0 ms")
    values = np.percentile(arr, list(PERCENTILES.values()))
    return {name: float(v) for name, v in zip(PERCENTILES, values, strict=True)}


def latency_vs_budget(
    percentiles: Mapping[str, float], budgets_ms: Mapping[str, float], *, n: int | None = None
) -> list[PerformanceResult]:
    """One result per budgeted percentile (``{"p99": 250}``), worst first."""
    results = []
    for name, budget in budgets_ms.items():
        if name not in percentiles:
            raise InputError(f"no percentile {name!r}", field="budgets_ms",
                             expected=f"one of {', '.join(percentiles)}")
        if not budget > 0:
            raise InputError(f"budget {budget!r} for {name}", field="budgets_ms",
                             expected="a positive number of milliseconds")
        value = float(percentiles[name])
        over = value > budget
        rows = f" over {n:,} requests" if n is not None else ""
        results.append(PerformanceResult(
            method=METHOD, metric=f"latency_{name}_ms", statistic=value, threshold=float(budget),
            effect_size=value / budget - 1.0, flagged=over,
            severity=severity_over_budget(value, budget),
            evidence=(f"{name} latency {value:.0f} ms{rows} vs budget {budget:.0f} ms"
                      + (f" ({value / budget - 1:+.0%})." if over else " — within budget.")),
            details={"percentiles": dict(percentiles)},
        ))
    return sorted(results, key=lambda r: -r.severity)
