"""Silences mute notifications and incident creation for matching labels, once or on a schedule.

Matchers follow Alertmanager's shape (name, value, regex or equality, negation) so people who
write Alertmanager silences can write these. A recurring silence adds weekly time windows in a
time zone, e.g. every Sunday 02:00-04:00 Europe/Berlin for a batch job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.errors import InputError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    value: str
    regex: bool = False
    negate: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise InputError("a matcher needs a label name", field="matchers.name")
        if self.regex:
            try:
                re.compile(self.value)
            except re.error as exc:
                raise InputError(
                    f"invalid regular expression {self.value!r}: {exc}", field="matchers.value"
                ) from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        hit = re.fullmatch(self.value, actual) is not None if self.regex else actual == self.value
        return hit != self.negate

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """`model=credit-risk`, `kind!=latency`, `model=~credit-.*`, `alertname!~Watchdog`."""
        for op, regex, negate in (("!~", True, True), ("=~", True, False), ("!=", False, True)):
            if op in text:
                name, value = text.split(op, 1)
                return cls(name.strip(), value.strip(), regex, negate)
        if "=" in text:
            name, value = text.split("=", 1)
            return cls(name.strip(), value.strip())
        raise InputError(
            f"cannot read matcher {text!r}", field="matchers", expected="name=value, name!=value, "
            "name=~regex or name!~regex"
        )

    def __str__(self) -> str:
        op = {(False, False): "=", (False, True): "!=", (True, False): "=~", (True, True): "!~"}
        return f"{self.name}{op[(self.regex, self.negate)]}{self.value}"


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """Active on the given weekdays from `start` to `end` local time (end may pass midnight)."""

    weekdays: tuple[int, ...]  # 0 = Monday
    start: time
    end: time
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"unknown time zone {self.timezone!r}", field="schedule.timezone",
                expected="an IANA name such as Europe/Berlin or UTC",
            ) from None
        if not self.weekdays:
            raise InputError("a weekly window needs at least one weekday", field="schedule.days")

    def active(self, when: datetime) -> bool:
        local = ensure_utc(when).astimezone(ZoneInfo(self.timezone))
        for day_offset in (0, -1):  # a window that started yesterday may run past midnight
            day = local.date() + timedelta(days=day_offset)
            if day.weekday() not in self.weekdays:
                continue
            begin = datetime.combine(day, self.start, local.tzinfo)
            finish = datetime.combine(day, self.end, local.tzinfo)
            if finish <= begin:
                finish += timedelta(days=1)
            if begin <= local < finish:
                return True
        return False

    @classmethod
    def parse(
        cls, days: Iterable[str], start: str, end: str, timezone: str = "UTC"
    ) -> WeeklyWindow:
        idx = []
        for d in days:
            key = d.strip().lower()
            match = [i for i, name in enumerate(WEEKDAYS) if name.startswith(key[:3])]
            if len(key) < 3 or not match:
                raise InputError(
                    f"unknown weekday {d!r}", field="schedule.days", expected=", ".join(WEEKDAYS)
                )
            idx.append(match[0])
        return cls(tuple(sorted(set(idx))), _parse_time(start, "start"), _parse_time(end, "end"),
                   timezone)


def _parse_time(text: str, name: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InputError(f"cannot read time {text!r}", field=f"schedule.{name}",
                         expected="HH:MM") from None


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime | None  # None: until expired by hand
    created_by: str
    reason: str
    schedule: tuple[WeeklyWindow, ...] = field(default=())
    expired: bool = False

    def __post_init__(self) -> None:
        if not self.matchers:
            raise InputError("a silence needs at least one matcher", field="matchers",
                             expected="e.g. model=credit-risk")
        if not self.reason.strip():
            raise InputError("a silence needs a reason", field="reason")
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise InputError("a silence must end after it starts", field="ends_at")

    def active(self, when: datetime) -> bool:
        when = ensure_utc(when)
        if self.expired or when < ensure_utc(self.starts_at):
            return False
        if self.ends_at is not None and when >= ensure_utc(self.ends_at):
            return False
        return not self.schedule or any(w.active(when) for w in self.schedule)

    def matches(self, labels: Mapping[str, str], when: datetime) -> bool:
        return self.active(when) and all(m.matches(labels) for m in self.matchers)


def silenced_by(
    labels: Mapping[str, str], when: datetime, silences: Iterable[Silence]
) -> Silence | None:
    """The first active silence that matches, or None."""
    return next((s for s in silences if s.matches(labels, when)), None)
