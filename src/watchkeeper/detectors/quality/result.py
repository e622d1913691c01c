"""The one result type every data-quality check returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class QualityResult:
    """One check on one feature (or on the whole window when ``feature`` is None).

    ``statistic`` is the check's measured quantity (e.g. the current missing rate), ``threshold``
    the bound it is compared with, ``effect_size`` the quantity severity is mapped from (e.g. the
    absolute increase in missing rate), ``flagged`` whether the check fails, ``catastrophic``
    whether the feature no longer carries any data at all.
    """

    method: str
    statistic: float
    threshold: float
    effect_size: float
    flagged: bool
    severity: float
    evidence: str
    feature: str | None = None
    p_value: float | None = None
    catastrophic: bool = False
    details: dict[str, Any] = field(default_factory=dict)
