"""Routing as data: tier -> RACI roles -> people (on-call resolved at an instant) and channels.

Pure: takes the escalation config and a time, touches nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.enums import Tier
from watchkeeper.escalation.config import (
    ONCALL_PREFIX,
    RACI_ROLES,
    EscalationConfig,
    RouteTarget,
)
from watchkeeper.escalation.oncall import on_call

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Assignment:
    person: str
    raci: str  # responsible | accountable | consulted | informed
    via: str  # the role, rotation or person name the policy used
    reason: str  # "rotation", "override", "deputy for carol (away)", "role member", "person"


@dataclass(frozen=True, slots=True)
class Route:
    tier: Tier
    assignments: tuple[Assignment, ...]
    channels: tuple[RouteTarget, ...]
    unstaffed: tuple[str, ...] = ()  # role names that resolved to nobody: worth a warning

    def people(self, raci: str | None = None) -> tuple[str, ...]:
        """Distinct people, in policy order, optionally for one RACI role."""
        seen: dict[str, None] = {}
        for a in self.assignments:
            if raci is None or a.raci == raci:
                seen.setdefault(a.person, None)
        return tuple(seen)

    def by_raci(self) -> dict[str, list[str]]:
        return {r: list(self.people(r)) for r in RACI_ROLES}

    def to_dict(self) -> dict[str, object]:
        return {
            "tier": str(self.tier),
            "people": self.by_raci(),
            "assignments": [
                {"person": a.person, "raci": a.raci, "via": a.via, "reason": a.reason}
                for a in self.assignments
            ],
            "channels": [{"channel": c.channel, "audience": c.audience} for c in self.channels],
            "unstaffed": list(self.unstaffed),
        }


def route(config: EscalationConfig, tier: Tier, at: datetime, model: str | None = None) -> Route:
    """Who is involved and which channels fire for an incident at `tier` at instant `at`.

    A tier without its own RACI or routes entry uses the nearest lower tier that has one, so a
    policy may define T1 and T3 only and T2 still routes (to T1's people). Channels are the
    tier's routes, then the personal channels of the people routed to.
    """
    at = ensure_utc(at)
    raci = _nearest(config.raci, tier) or {}
    assignments: list[Assignment] = []
    unstaffed: list[str] = []
    for part in RACI_ROLES:
        for name in raci.get(part, ()):
            found = _resolve(config, name, at, model)
            if not found:
                unstaffed.append(name)
            assignments.extend(Assignment(p, part, name, why) for p, why in found)
    channels = list(_nearest(config.routes, tier) or ())
    names = {c.channel for c in channels}
    for a in assignments:
        person = config.people.get(a.person)
        for ch in person.channels if person else ():
            if ch not in names and ch in config.channels:
                names.add(ch)
                channels.append(RouteTarget(ch, config.channels[ch].audience))
    return Route(tier, tuple(assignments), tuple(channels), tuple(unstaffed))


def _nearest(table: Mapping[Tier, V], tier: Tier) -> V | None:
    for t in sorted((t for t in table if t <= tier), reverse=True):
        return table[t]
    return None


def _resolve(config: EscalationConfig, name: str, at: datetime,
             model: str | None) -> list[tuple[str, str]]:
    """A RACI entry names a role (whose members are people or `oncall:<rotation>`), or
    directly a rotation or a person."""
    roles = config.model_roles.get(model or "", {})
    members = roles.get(name, config.roles.get(name))
    if members is None:
        return _member(config, name, at, direct=True)
    found: list[tuple[str, str]] = []
    everyone: list[tuple[str, str]] = []
    for m in members:
        for pid, why in _member(config, m, at, direct=False):
            everyone.append((pid, why))
            if not why.endswith("(away)"):
                found.append((pid, why))
    # Everyone away: still tell them rather than nobody; the reason says so.
    return found or everyone


def _member(config: EscalationConfig, name: str, at: datetime,
            direct: bool) -> list[tuple[str, str]]:
    rotation = name.removeprefix(ONCALL_PREFIX)
    if rotation in config.oncall and (direct or name.startswith(ONCALL_PREFIX)):
        shift = on_call(config.oncall[rotation], config.people, at)
        return [(shift.person, shift.reason)] if shift.person else []
    away = _away(config, name, at)
    if direct:
        return [(name, "person (away)" if away else "person")]
    return [(name, "role member (away)" if away else "role member")]


def _away(config: EscalationConfig, pid: str, at: datetime) -> bool:
    person = config.people.get(pid)
    return person is not None and person.is_away(at)


def deputy_route(config: EscalationConfig, tier: Tier, at: datetime,
                 model: str | None = None) -> Route:
    """The deputies of the rotations behind the tier's responsible roles, and the channels that
    reach them: the tier's on-call channels plus the deputies' own."""
    base = route(config, tier, at, model)
    rotations: list[str] = []
    raci = _nearest(config.raci, tier) or {}
    for name in raci.get("responsible", ()):
        members = config.model_roles.get(model or "", {}).get(name, config.roles.get(name, ()))
        for m in (name, *members):
            r = m.removeprefix(ONCALL_PREFIX)
            if r in config.oncall and r not in rotations:
                rotations.append(r)
    assignments = []
    for r in rotations:
        for d in config.oncall[r].deputies:
            if not _away(config, d, at):
                assignments.append(Assignment(d, "responsible", r, f"deputy of {r}"))
    channels = [c for c in base.channels if c.audience == "oncall"]
    names = {c.channel for c in channels}
    for a in assignments:
        person = config.people.get(a.person)
        for ch in person.channels if person else ():
            if ch not in names and ch in config.channels:
                names.add(ch)
                channels.append(RouteTarget(ch, config.channels[ch].audience))
    return Route(tier, tuple(assignments), tuple(channels))
