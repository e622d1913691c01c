"""Detector results -> `Signal` records, and values made safe for JSON and SQL."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from watchkeeper.core.enums import SignalKind
from watchkeeper.core.records import Signal
from watchkeeper.detectors.multivariate import MultivariateResult
from watchkeeper.detectors.performance import PerformanceResult
from watchkeeper.detectors.quality import QualityResult


def finite(value: float | None) -> float | None:
    """None for missing, NaN and infinities (neither JSON nor SQLite keeps them faithfully)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def json_safe(value: Any) -> Any:
    """Recursively: numpy scalars to Python, non-finite floats to their text, tuples to lists."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf", "-inf", "nan": still readable in the evidence view
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def from_quality(
    r: QualityResult,
    *,
    kind: SignalKind = SignalKind.DATA_QUALITY,
    catastrophic: bool | None = None,
) -> Signal:
    return Signal(
        kind=kind, method=r.method, severity=r.severity, statistic=finite(r.statistic),
        p_value=finite(r.p_value), effect_size=finite(r.effect_size),
        threshold=finite(r.threshold), feature=r.feature,
        catastrophic=r.catastrophic if catastrophic is None else catastrophic,
        evidence=r.evidence, details=json_safe({"flagged": r.flagged, **r.details}),
    )


def from_performance(
    r: PerformanceResult, kind: SignalKind, *, feature: str | None = None
) -> Signal:
    details: dict[str, Any] = {"flagged": r.flagged, "metric": r.metric, **r.details}
    if r.interval is not None:
        details["interval"] = list(r.interval)
    return Signal(
        kind=kind, method=r.method if r.method not in ("kpi", "realised") else r.metric,
        severity=r.severity, statistic=finite(r.statistic), p_value=finite(r.p_value),
        effect_size=finite(r.effect_size), threshold=finite(r.threshold), feature=feature,
        segment=r.segment, evidence=r.evidence, details=json_safe(details),
    )


def from_multivariate(r: MultivariateResult) -> Signal:
    return Signal(
        kind=SignalKind.DATA_DRIFT, method=r.method, severity=r.severity,
        statistic=finite(r.statistic), p_value=finite(r.p_value),
        effect_size=finite(r.effect_size), threshold=finite(r.threshold), evidence=r.evidence,
        details=json_safe({"flagged": r.flagged, "contributors": r.contributors, **r.details}),
    )
