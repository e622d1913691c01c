"""Who is on call at an instant: rotation shift, then overrides, then deputies if away.

Shifts are computed on the rotation's local calendar (zoneinfo), so a hand-off at 09:00
Europe/Berlin happens at 09:00 local time on both sides of a DST change and a shift that
spans the change is simply an hour shorter or longer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from watchkeeper.core.clock import ensure_utc
from watchkeeper.escalation.config import Person, Rotation


@dataclass(frozen=True, slots=True)
class Shift:
    rotation: str
    scheduled: str  # the rotation member whose shift it is
    person: str | None  # who actually answers: override or deputy applied; None if nobody
    starts: datetime  # UTC
    ends: datetime  # UTC: the next hand-off
    reason: str  # "rotation", "override", "deputy for carol (away)", ...


def _anchor(rot: Rotation) -> date:
    """The first hand-off date on or after `rot.start` (on the hand-off weekday if weekly)."""
    if rot.kind == "daily":
        return rot.start
    return rot.start + timedelta(days=(rot.handoff_day - rot.start.weekday()) % 7)


def shift_bounds(rot: Rotation, at: datetime) -> tuple[int, datetime, datetime]:
    """(member index, shift start UTC, shift end UTC) of the scheduled shift covering `at`."""
    tz = ZoneInfo(rot.timezone)
    local = ensure_utc(at).astimezone(tz)
    days = 1 if rot.kind == "daily" else 7
    if days == 1:
        begin = local.date() - timedelta(days=1 if local.time() < rot.handoff else 0)
    else:
        back = (local.weekday() - rot.handoff_day) % 7
        begin = local.date() - timedelta(days=back)
        if back == 0 and local.time().replace(tzinfo=None) < rot.handoff:
            begin -= timedelta(days=7)
    index = ((begin - _anchor(rot)).days // days) % len(rot.members)
    start = datetime.combine(begin, rot.handoff, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(begin + timedelta(days=days), rot.handoff, tzinfo=tz).astimezone(UTC)
    return index, start, end


def on_call(rot: Rotation, people: Mapping[str, Person], at: datetime) -> Shift:
    at = ensure_utc(at)
    index, start, end = shift_bounds(rot, at)
    scheduled = rot.members[index]
    person, reason = scheduled, "rotation"
    for override in rot.overrides:  # later overrides win over earlier ones
        if override.period.covers(at):
            person, reason = override.person, "override"
            start = max(start, override.period.start)
            end = min(end, override.period.end) if override.period.end else end

    def away(pid: str) -> bool:
        p = people.get(pid)
        return p is not None and p.is_away(at)

    if away(person):
        # Deputies first, in the order given; then the other members in rotation order, so
        # somebody answers rather than nobody.
        rest = rot.members[index + 1:] + rot.members[:index]
        for candidate, kind in [*((d, "deputy") for d in rot.deputies),
                                *((m, "next in rotation") for m in rest)]:
            if candidate != person and not away(candidate):
                return Shift(rot.name, scheduled, candidate, start, end,
                             f"{kind} for {person} (away)")
        return Shift(rot.name, scheduled, None, start, end, f"{person} away and nobody available")
    return Shift(rot.name, scheduled, person, start, end, reason)
