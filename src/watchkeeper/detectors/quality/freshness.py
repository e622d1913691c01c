"""Freshness: how long since the last event, measured in expected inter-event intervals.

A model that stops receiving traffic is silent, not healthy. The statistic is
``(now - last_event_at) / expected_every``; the check flags when it reaches ``tolerance``
(default 2: two expected intervals without an event), and is catastrophic past
``catastrophic_after`` intervals (default 10).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.quality._checks import positive
from watchkeeper.detectors.quality.result import QualityResult
from watchkeeper.detectors.severity import severity

METHOD = "freshness"


def freshness(
    last_event_at: datetime | None,
    now: datetime,
    expected_every: timedelta,
    *,
    tolerance: float = 2.0,
    catastrophic_after: float = 10.0,
) -> QualityResult:
    """Flag a stream whose newest event is older than ``tolerance`` expected intervals."""
    if expected_every <= timedelta(0):
        raise InputError(f"got {expected_every}", field="expected_every",
                         expected="a positive interval")
    positive(tolerance, "tolerance")
    if catastrophic_after < tolerance:
        raise InputError(f"got {catastrophic_after}", field="catastrophic_after",
                         expected=f"at least tolerance ({tolerance})")
    if last_event_at is not None and (last_event_at.tzinfo is None) != (now.tzinfo is None):
        raise InputError("cannot compare naive and timezone-aware times", field="last_event_at",
                         expected="both times naive or both timezone-aware")
    if last_event_at is None:
        return QualityResult(
            method=METHOD, statistic=float("inf"), threshold=tolerance, effect_size=float("inf"),
            flagged=True, severity=1.0, catastrophic=True,
            evidence="no event has ever been received.", details={"last_event_at": None},
        )
    age = max(timedelta(0), now - last_event_at)
    intervals = age / expected_every
    catastrophic = intervals >= catastrophic_after
    # Severity grows with the lateness beyond the expected gap: 0.5 at `tolerance` intervals.
    sev = 1.0 if catastrophic else severity(intervals, tolerance)
    evidence = (
        f"last event {_human(age)} ago, {intervals:.1f}x the expected interval of "
        f"{_human(expected_every)}; flags at {tolerance:g}x."
    )
    return QualityResult(
        method=METHOD, statistic=intervals, threshold=tolerance, effect_size=intervals,
        flagged=intervals >= tolerance, severity=sev, catastrophic=catastrophic,
        evidence=evidence,
        details={"last_event_at": last_event_at.isoformat(), "age_seconds": age.total_seconds(),
                 "expected_every_seconds": expected_every.total_seconds()},
    )


def _human(delta: timedelta) -> str:
    s = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.1f} {unit}"
    return f"{s:.0f} s"
