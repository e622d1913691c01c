"""The result type of every performance check (metric change, estimate, drift, latency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class PerformanceResult:
    """One judgement about one metric (optionally of one segment).

    ``statistic`` is the metric's current value (or the test statistic for prediction drift),
    ``threshold`` the bound it is judged against, ``effect_size`` the quantity severity is
    mapped from (e.g. the drop below the reference), ``interval`` a confidence interval for
    ``statistic`` where the method gives one.
    """

    method: str
    metric: str
    statistic: float
    threshold: float
    effect_size: float
    flagged: bool
    severity: float
    evidence: str
    p_value: float | None = None
    interval: tuple[float, float] | None = None
    segment: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
