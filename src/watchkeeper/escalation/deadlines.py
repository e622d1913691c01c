"""Acknowledgement deadlines, escalation and reminders as a pure timeline.

The timeline is computed from when the incident reached its tier, so it is the same whenever
(and however often) a tick evaluates it; a late tick catches up instead of drifting. Each due
event has a stable key, so the service can enqueue it idempotently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.enums import Tier
from watchkeeper.escalation.config import Step


@dataclass(frozen=True, slots=True)
class Level:
    tier: Tier
    since: datetime  # when this level was notified
    ack_deadline: datetime | None  # None: no deadline at this tier
    escalates_to: Tier | None  # where it goes if the deadline passes unacknowledged
    reminders: tuple[datetime, ...]  # reminder instants up to now (and the next one, if any)
    deputy_at: datetime | None = None  # when the on-call deputies are paged if still silent


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # trigger | escalate | remind | deputy
    tier: Tier
    at: datetime
    number: int = 0  # reminder number within the level

    @property
    def key(self) -> str:
        return f"{self.tier}:{self.kind}" + (f":{self.number}" if self.kind == "remind" else "")


@dataclass(frozen=True, slots=True)
class Timeline:
    levels: tuple[Level, ...]
    now: datetime
    stopped_at: datetime | None  # acknowledgement or resolution stops the clock
    stopped_by: str | None

    @property
    def current(self) -> Level:
        return self.levels[-1]

    @property
    def next_reminder(self) -> datetime | None:
        future = [r for r in self.current.reminders if r > self.now]
        return future[0] if future and self.stopped_at is None else None

    @property
    def next_escalation(self) -> datetime | None:
        lvl = self.current
        if self.stopped_at is None and lvl.escalates_to is not None:
            return lvl.ack_deadline
        return None

    def due_events(self) -> list[Event]:
        """Events due by `now`: each level's notification, and only the latest due reminder of
        the current level (a late tick sends one reminder, not a burst)."""
        events: list[Event] = []
        if self.stopped_at is not None:
            # Acknowledged or resolved: nobody needs paging any more; the first notification
            # still goes out so that the informed hear of an incident closed before a tick.
            lvl = self.levels[0]
            return [Event("trigger", lvl.tier, lvl.since)]
        for i, lvl in enumerate(self.levels):
            events.append(Event("trigger" if i == 0 else "escalate", lvl.tier, lvl.since))
        lvl = self.current
        if lvl.deputy_at is not None and lvl.deputy_at <= self.now:
            events.append(Event("deputy", lvl.tier, lvl.deputy_at))
        due = [(n, r) for n, r in enumerate(lvl.reminders, 1) if r <= self.now]
        if due:
            n, at = due[-1]
            events.append(Event("remind", lvl.tier, at, n))
        return events

    def to_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "tier": str(self.current.tier),
            "ack_deadline": iso(self.current.ack_deadline if self.stopped_at is None else None),
            "next_escalation": iso(self.next_escalation),
            "next_reminder": iso(self.next_reminder),
            "stopped_at": iso(self.stopped_at),
            "stopped_by": self.stopped_by,
            "levels": [
                {"tier": str(lv.tier), "since": iso(lv.since), "ack_deadline": iso(lv.ack_deadline),
                 "deputy_at": iso(lv.deputy_at),
                 "escalates_to": str(lv.escalates_to) if lv.escalates_to else None,
                 "reminders": [iso(r) for r in lv.reminders]}
                for lv in self.levels
            ],
        }


def timeline(
    steps: Mapping[Tier, Step],
    tier: Tier,
    since: datetime,
    now: datetime,
    acknowledged_at: datetime | None = None,
    resolved_at: datetime | None = None,
) -> Timeline:
    since, now = ensure_utc(since), ensure_utc(now)
    stops = [(ensure_utc(t), why) for t, why in ((acknowledged_at, "acknowledged"),
                                                 (resolved_at, "resolved")) if t is not None]
    stopped_at, stopped_by = min(stops) if stops else (None, None)
    # The clock that drives escalation stops at acknowledgement/resolution or at `now`.
    horizon = min(now, stopped_at) if stopped_at else now
    levels: list[Level] = []
    current, start = tier, since
    while True:
        step = steps.get(current)
        deadline = start + step.ack_within if step and step.ack_within else None
        nxt = step.then if step and deadline else None
        end = deadline if deadline and nxt else None
        deputy = start + step.deputy_after if step and step.deputy_after else None
        if deputy is not None and deadline is not None and deputy >= deadline:
            deputy = None  # the tier escalates first; paging deputies then is moot
        levels.append(Level(current, start, deadline, nxt,
                            _reminders(step, start, end, horizon), deputy))
        if nxt is None or deadline is None or deadline > horizon or (
                stopped_at is not None and stopped_at <= deadline):
            break
        current, start = nxt, deadline
    return Timeline(tuple(levels), now, stopped_at if stopped_at and stopped_at <= now else None,
                    stopped_by if stopped_at and stopped_at <= now else None)


def _reminders(step: Step | None, start: datetime, end: datetime | None,
               horizon: datetime) -> tuple[datetime, ...]:
    """Reminder instants after `start`, before the level ends, up to `horizon` plus the next."""
    if step is None or step.remind_every is None:
        return ()
    every: timedelta = step.remind_every
    out = []
    t = start + every
    while end is None or t < end:
        out.append(t)
        if t > horizon:
            break
        t += every
    return tuple(out)
