"""Value records passed between stages. Immutable; serialisable with `to_dict`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from watchkeeper.core.enums import SignalKind, Tier


@dataclass(frozen=True, slots=True)
class WindowKey:
    """One evaluation window of one model: [start, end)."""

    model: str
    start: datetime
    end: datetime

    def __str__(self) -> str:
        return f"{self.model}@{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True, slots=True)
class Signal:
    """One detector's finding for one window (and one feature, where it applies).

    severity is in [0, 1] by a documented monotone mapping of the detector's effect size and
    significance; 0 means "nothing to see", 1 means "as bad as this detector can say".
    """

    kind: SignalKind
    method: str
    severity: float
    statistic: float | None = None
    p_value: float | None = None
    effect_size: float | None = None
    threshold: float | None = None
    feature: str | None = None
    segment: str | None = None
    catastrophic: bool = False  # bypasses persistence (model failure, 100% nulls, ...)
    evidence: str = ""  # one readable sentence
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.severity <= 1.0:
            raise ValueError(f"severity must be in [0, 1], got {self.severity}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        return d


@dataclass(frozen=True, slots=True)
class Contributor:
    """One part of a score's explanation."""

    kind: SignalKind
    share: float  # fraction of the score, 0..1
    severity: float
    feature: str | None = None
    method: str | None = None
    effect_size: float | None = None
    interval: tuple[float, float] | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Score:
    """The composite health score of one model for one window."""

    window: WindowKey
    value: float  # 0..100
    tier: Tier
    raw_tier: Tier  # before persistence / hysteresis
    contributors: tuple[Contributor, ...] = ()
    config_version: str = ""
    summary: str = ""
