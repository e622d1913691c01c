"""`people:`, `roles:`, `raci:` and `oncall:` — who is told, who acts, who answers for it."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BeforeValidator, Field, PlainSerializer, model_validator

from watchkeeper.policy.common import Name, Section, custom_error, listify, problem, raise_problems

ONCALL_PREFIX = "oncall:"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _timezone(value: object) -> str:
    if isinstance(value, str):
        try:
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise custom_error(f"unknown timezone {value!r}; expected an IANA name such as "
                       "Europe/Berlin or UTC")


def _email(value: object) -> str:
    if isinstance(value, str) and _EMAIL.match(value):
        return value
    raise custom_error(f"invalid email address {value!r}; expected name@domain")


def _time_of_day(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 10:30 as the base-60 number 630.
        raise custom_error(f"got the number {value}; write the time in quotes, e.g. \"10:30\" "
                           "(YAML reads unquoted 10:30 as a number)")
    if isinstance(value, str) and re.match(r"^\d{2}:\d{2}(:\d{2})?$", value):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise custom_error(f"invalid time of day {value!r}; expected HH:MM in quotes, e.g. \"09:00\"")


Timezone = Annotated[str, BeforeValidator(_timezone)]
Email = Annotated[str, BeforeValidator(_email)]
TimeOfDay = Annotated[
    time,
    BeforeValidator(_time_of_day),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"),
]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Period(Section):
    start: AwareDatetime = Field(alias="from", description="Start, ISO 8601 with offset.")
    until: AwareDatetime = Field(description="End (exclusive), ISO 8601 with offset.")

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.until <= self.start:
            raise_problems("period", [problem(("until",), "until must be after from",
                                              self.until.isoformat())])
        return self

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.until


class Person(Section):
    name: str = Field("", description="Display name; unset: the person's key.")
    email: Email | None = Field(None, description="Address for email channels.")
    slack: str | None = Field(None, description="Slack handle or member id, for mentions.")
    teams: str | None = Field(None, description="Teams user, for mentions.")
    phone: str | None = Field(None, description="Phone number, for paging services.")
    timezone: Timezone = Field("UTC", description="IANA time zone; messages show local time.")
    channels: Annotated[list[Name], BeforeValidator(listify)] = Field(
        default_factory=list, description="Channels (keys of channels:) that reach this person."
    )
    away: list[Period] = Field(
        default_factory=list, description="Absences; their on-call shifts go to deputies."
    )


def _role_target(value: object) -> str:
    if isinstance(value, str):
        if value.startswith(ONCALL_PREFIX):
            rotation = value.removeprefix(ONCALL_PREFIX)
            if re.match(r"^\w[\w.-]*$", rotation):
                return value
        elif re.match(r"^\w[\w.-]*$", value):
            return value
    raise custom_error(f"invalid role member {value!r}; expected a person (e.g. alice) or an "
                       "on-call rotation (e.g. oncall:mlops)")


RoleTarget = Annotated[str, BeforeValidator(_role_target)]
RoleMembers = Annotated[list[RoleTarget], BeforeValidator(listify)]


class RaciEntry(Section):
    responsible: Annotated[list[Name], BeforeValidator(listify)] = Field(
        default_factory=list, description="Roles that act on the incident."
    )
    accountable: Annotated[list[Name], BeforeValidator(listify)] = Field(
        default_factory=list, description="Roles that answer for the outcome."
    )
    consulted: Annotated[list[Name], BeforeValidator(listify)] = Field(
        default_factory=list, description="Roles asked for advice."
    )
    informed: Annotated[list[Name], BeforeValidator(listify)] = Field(
        default_factory=list, description="Roles kept up to date."
    )

    @model_validator(mode="after")
    def _someone(self) -> RaciEntry:
        if not (self.responsible or self.accountable):
            raise custom_error("a RACI entry needs at least one responsible or accountable role")
        return self

    def all_roles(self) -> list[tuple[str, str]]:
        """(raci letter name, role) pairs in policy order."""
        return [(part, role) for part in ("responsible", "accountable", "consulted", "informed")
                for role in getattr(self, part)]


class Override(Section):
    person: Name = Field(description="Who takes the shift.")
    start: AwareDatetime = Field(alias="from", description="Start, ISO 8601 with offset.")
    until: AwareDatetime = Field(description="End (exclusive), ISO 8601 with offset.")

    @model_validator(mode="after")
    def _order(self) -> Override:
        if self.until <= self.start:
            raise_problems("override", [problem(("until",), "until must be after from",
                                                self.until.isoformat())])
        return self


class Rotation(Section):
    rotation: Literal["daily", "weekly"] = Field("weekly", description="Shift length.")
    handoff: TimeOfDay = Field(time(9, 0), description="Local hand-over time, \"HH:MM\".")
    handoff_day: Literal[WEEKDAYS] = Field(  # type: ignore[valid-type]
        "monday", description="Hand-over weekday of weekly rotations."
    )
    timezone: Timezone = Field("UTC", description="Time zone of the hand-over time.")
    start: date = Field(
        date(2026, 1, 5), description="The first member's first shift starts on this date."
    )
    members: Annotated[list[Name], BeforeValidator(listify)] = Field(
        min_length=1, description="People taking shifts, in order."
    )
    deputies: Annotated[list[Name], BeforeValidator(listify)] = Field(
        default_factory=list, description="Paged when the person on shift is away or silent."
    )
    overrides: list[Override] = Field(
        default_factory=list, description="One-off shift swaps."
    )

    @model_validator(mode="after")
    def _distinct(self) -> Rotation:
        seen: set[str] = set()
        problems = []
        for i, m in enumerate(self.members):
            if m in seen:
                problems.append(problem(("members", i), f"{m} is listed twice", m))
            seen.add(m)
        raise_problems("rotation", problems)
        return self
