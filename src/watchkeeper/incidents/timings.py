"""MTTD, MTTA and MTTR, defined once.

MTTD: estimated change point -> detection (the incident opened).
MTTA: detection -> first acknowledgement.
MTTR: detection -> resolution (PagerDuty's convention; the change point is uncertain, detection
is not).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class IncidentTimes:
    model: str
    tier: str
    detected_at: datetime
    change_point_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def ttd(self) -> float | None:
        return _seconds(self.change_point_at, self.detected_at)

    @property
    def tta(self) -> float | None:
        return _seconds(self.detected_at, self.acknowledged_at)

    @property
    def ttr(self) -> float | None:
        return _seconds(self.detected_at, self.resolved_at)


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return max(0.0, (b - a).total_seconds())


@dataclass(frozen=True, slots=True)
class TimingSummary:
    model: str
    tier: str
    incidents: int
    mttd_s: float | None
    mtta_s: float | None
    mttr_s: float | None
    open: int


def summarise(rows: Iterable[IncidentTimes]) -> list[TimingSummary]:
    """Mean times per (model, tier), skipping incidents that have not reached a milestone."""
    groups: dict[tuple[str, str], list[IncidentTimes]] = defaultdict(list)
    for row in rows:
        groups[(row.model, row.tier)].append(row)
    out = []
    for (model, tier), items in sorted(groups.items()):
        out.append(
            TimingSummary(
                model=model,
                tier=tier,
                incidents=len(items),
                mttd_s=_mean(r.ttd for r in items),
                mtta_s=_mean(r.tta for r in items),
                mttr_s=_mean(r.ttr for r in items),
                open=sum(r.resolved_at is None for r in items),
            )
        )
    return out


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds}s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f}m"
    hours = minutes / 60
    return f"{hours:.1f}h" if hours < 48 else f"{hours / 24:.1f}d"
