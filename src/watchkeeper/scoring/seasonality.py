"""Seasonality-aware baselines: compare a signal with the same slot in past weeks.

Detectors compare a window with a fixed reference, so a weekly cycle (Monday-morning traffic,
weekend segments) shows up as "drift" every week at the same hour. Where seasonality is
configured, each signal's severity is compared with what the same signal said in the same slot
(hour of week, day of week or hour of day) over the last `history` periods, and only the
excess counts: ``adjusted = max(0, (s - b) / (1 - b))`` with ``b`` the highest past same-slot
severity. A recurring pattern is therefore absorbed; something new in that slot is not.

Windows that end in an alert (tier >= T2) are learnt only where the slot has no history yet
(a baseline must start somewhere, and on day one the cycle itself alerts), so an incident that
lasts a week does not become next week's normal. The state is plain data for the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.records import Signal
from watchkeeper.scoring.config import SeasonalityConfig


def slot_of(when: datetime, slot: str) -> str:
    when = ensure_utc(when)
    if slot == "hour_of_week":
        return f"{when.weekday()}:{when.hour:02d}"
    if slot == "day_of_week":
        return str(when.weekday())
    return f"{when.hour:02d}"  # hour_of_day


def signal_key(s: Signal) -> str:
    return f"{s.kind.value}|{s.method}|{s.feature or ''}|{s.segment or ''}"


@dataclass(slots=True)
class SeasonalState:
    # signal key -> slot -> past severities, oldest first (at most `history`)
    past: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"past": {k: {s: list(v) for s, v in slots.items()}
                         for k, slots in self.past.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SeasonalState:
        if not data:
            return cls()
        return cls(past={k: {s: [float(x) for x in v] for s, v in slots.items()}
                         for k, slots in data.get("past", {}).items()})


def adjust(
    signals: Sequence[Signal], window_start: datetime, state: SeasonalState,
    config: SeasonalityConfig,
) -> list[Signal]:
    """Signals with the recurring part of their severity removed (unchanged when disabled).

    Catastrophic signals are never adjusted: a null flood is not seasonal.
    """
    if not config.enabled:
        return list(signals)
    slot = slot_of(window_start, config.slot)
    out: list[Signal] = []
    for s in signals:
        past = state.past.get(signal_key(s), {}).get(slot)
        if not past or s.catastrophic:
            out.append(s)
            continue
        base = max(past)
        value = 0.0 if base >= 1.0 else max(0.0, (s.severity - base) / (1.0 - base))
        details = {**s.details, "raw_severity": s.severity, "seasonal_baseline": base}
        out.append(replace(s, severity=min(1.0, value), details=details))
    return out


def learn(
    signals: Sequence[Signal], window_start: datetime, state: SeasonalState,
    config: SeasonalityConfig, *, alerting: bool = False,
) -> SeasonalState:
    """Remember a window's unadjusted severities, in place; returns `state`. An alerting
    window only fills slots that have no history yet."""
    if not config.enabled:
        return state
    slot = slot_of(window_start, config.slot)
    past = state.past
    for s in signals:
        raw = float(s.details.get("raw_severity", s.severity))
        values = past.setdefault(signal_key(s), {}).setdefault(slot, [])
        if alerting and values:
            continue
        values.append(raw)
        del values[: -config.history]
    return state
