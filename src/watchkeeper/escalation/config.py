"""The escalation part of the policy as plain frozen values.

`EscalationConfig.from_mapping` reads the policy sections escalation needs (people, roles, raci,
oncall, escalation, channels, routes, messages) from plain mappings, and `from_policy` accepts
the loaded pydantic policy by dumping it first. The routing math therefore never depends on
pydantic details, and tests can feed YAML snippets straight in. Every problem is collected and
reported at once, each with its YAML path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.enums import Role, Tier
from watchkeeper.core.errors import PolicyError

RACI_ROLES = ("responsible", "accountable", "consulted", "informed")
AUDIENCES = ("oncall", "executive", "customer", "regulator", "partner")
EXTERNAL_AUDIENCES = frozenset({"customer", "regulator", "partner"})
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ONCALL_PREFIX = "oncall:"  # a role member naming a rotation: oncall:mlops
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in UTC; end None means open-ended."""

    start: datetime
    end: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str = ""
    email: str | None = None
    timezone: str = "UTC"
    away: tuple[Period, ...] = ()
    contact: Mapping[str, str] = field(default_factory=dict)  # slack id, phone, ...
    channels: tuple[str, ...] = ()  # channels that reach this person directly

    def is_away(self, at: datetime) -> bool:
        return any(p.covers(at) for p in self.away)


@dataclass(frozen=True, slots=True)
class Override:
    person: str
    period: Period


@dataclass(frozen=True, slots=True)
class Rotation:
    """An on-call rotation. Hand-offs happen at `handoff` wall-clock time in `timezone`
    (weekly ones on `handoff_day`), so a 09:00 hand-off stays at 09:00 across DST changes."""

    name: str
    members: tuple[str, ...]
    kind: str = "weekly"  # daily | weekly
    handoff: time = time(9, 0)
    handoff_day: int = 0  # weekday for weekly rotations, Monday = 0
    timezone: str = "UTC"
    start: date = date(2024, 1, 1)  # the first member's first shift begins on/after this date
    deputies: tuple[str, ...] = ()
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One tier's escalation rule."""

    ack_within: timedelta | None
    then: Tier | None = None
    remind_every: timedelta | None = None
    deputy_after: timedelta | None = None  # page on-call deputies if silent this long


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """A channel by name. `settings` holds only names of environment variables for secrets
    (keys ending in `_env`) and non-secret options, so it may be stored and logged."""

    name: str
    type: str
    audience: str = "oncall"
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "audience": self.audience,
                "settings": dict(self.settings)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChannelConfig:
        return cls(name=data["name"], type=data["type"], audience=data.get("audience", "oncall"),
                   settings=dict(data.get("settings", {})))


@dataclass(frozen=True, slots=True)
class RouteTarget:
    channel: str
    audience: str


@dataclass(frozen=True, slots=True)
class MessagesConfig:
    pii_fields: tuple[str, ...] = ()
    external_audiences_need_approval: bool = True
    approver_roles: tuple[str, ...] = (Role.APPROVER.value, Role.ADMIN.value)
    dashboard_url: str = "http://127.0.0.1:8000"


@dataclass(frozen=True, slots=True)
class EscalationConfig:
    people: Mapping[str, Person] = field(default_factory=dict)
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # A model's own roles win over the top-level ones (e.g. each model has its model_owner).
    model_roles: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    raci: Mapping[Tier, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    oncall: Mapping[str, Rotation] = field(default_factory=dict)
    escalation: Mapping[Tier, Step] = field(default_factory=dict)
    channels: Mapping[str, ChannelConfig] = field(default_factory=dict)
    routes: Mapping[Tier, tuple[RouteTarget, ...]] = field(default_factory=dict)
    messages: MessagesConfig = field(default_factory=MessagesConfig)

    @classmethod
    def from_policy(cls, policy: Any) -> EscalationConfig:
        """Accept the loaded policy object (pydantic) or a plain mapping."""
        if isinstance(policy, EscalationConfig):
            return policy
        if hasattr(policy, "model_dump"):
            policy = policy.model_dump(mode="python", by_alias=True, exclude_none=True)
        if not isinstance(policy, Mapping):
            raise PolicyError([f"policy: expected a mapping, got {type(policy).__name__}"])
        return cls.from_mapping(policy)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str | None = None) -> EscalationConfig:
        return _Reader(source).read(data)


# --- parsing -----------------------------------------------------------------------------


def parse_duration(value: Any) -> timedelta:
    """`30m`, `4h`, `1.5d`, seconds as a number, or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2)])
    raise ValueError(f"{value!r} is not a duration")


def parse_instant(value: Any, tz: str = "UTC") -> datetime:
    """An ISO timestamp (naive ones are read in `tz`) or a datetime, returned in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if not isinstance(value, datetime):
        raise ValueError(f"{value!r} is not a timestamp")
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return ensure_utc(value)


def _pii_features(models: Any) -> list[str]:
    out = []
    for model in models if isinstance(models, Sequence) else ():
        schema = model.get("schema") if isinstance(model, Mapping) else None
        features = schema.get("features") if isinstance(schema, Mapping) else None
        for name, spec in (features or {}).items() if isinstance(features, Mapping) else ():
            if isinstance(spec, Mapping) and spec.get("pii") is True:
                out.append(str(name))
    return out


class _Reader:
    def __init__(self, source: str | None) -> None:
        self.source = source
        self.problems: list[str] = []

    def bad(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def read(self, data: Mapping[str, Any]) -> EscalationConfig:
        people = self._people(data.get("people") or {})
        roles = self._roles(data.get("roles") or {})
        model_roles = self._model_roles(data.get("models") or [])
        oncall = self._oncall(data.get("oncall") or {})
        raci = self._raci(data.get("raci") or {})
        escalation = self._escalation(data.get("escalation") or {})
        channels = self._channels(data.get("channels") or {})
        routes = self._routes(data.get("routes") or {}, channels)
        messages = self._messages(data.get("messages") or {})
        marked = _pii_features(data.get("models") or [])
        if marked:  # features marked `pii: true` are redacted as if listed in pii_fields
            messages = replace(messages, pii_fields=tuple(
                dict.fromkeys([*messages.pii_fields, *marked])))
        self._check_references(people, {**roles, **{r: () for mr in model_roles.values()
                                                    for r in mr}}, oncall, raci)
        if self.problems:
            raise PolicyError(self.problems, source=self.source)
        return EscalationConfig(people=people, roles=roles, model_roles=model_roles,
                                raci=raci, oncall=oncall,
                                escalation=escalation, channels=channels, routes=routes,
                                messages=messages)

    # Each section reader records problems and skips what it cannot read, so that every
    # problem in the file is reported in one go.

    def _mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.bad(path, f"expected a mapping, got {type(value).__name__}")
        return {}

    def _names(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
            return tuple(value)
        self.bad(path, "expected a name or a list of names")
        return ()

    def _tier(self, key: Any, path: str) -> Tier | None:
        try:
            return key if isinstance(key, Tier) else Tier.parse(str(key))
        except ValueError as exc:
            self.bad(path, str(exc))
            return None

    def _zone(self, name: Any, path: str) -> str:
        try:
            ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            self.bad(path, f"unknown time zone {name!r}; expected an IANA name like Europe/Berlin")
            return "UTC"
        return str(name)

    def _periods(self, value: Any, path: str, tz: str) -> tuple[Period, ...]:
        periods = (self._period(item, f"{path}[{i}]", tz) for i, item in enumerate(value or ()))
        return tuple(p for p in periods if p is not None)

    def _period(self, item: Any, where: str, tz: str) -> Period | None:
        if not isinstance(item, Mapping):
            self.bad(where, "expected {from: ..., until: ...}")
            return None
        try:
            start = parse_instant(item.get("from", item.get("start")), tz)
            raw_end = item.get("until", item.get("end"))
            end = None if raw_end is None else parse_instant(raw_end, tz)
        except (ValueError, TypeError) as exc:
            self.bad(where, f"{exc}; expected ISO timestamps in 'from' and 'until'")
            return None
        if end is not None and end <= start:
            self.bad(where, "'until' must be after 'from'")
            return None
        return Period(start, end)

    def _people(self, value: Any) -> dict[str, Person]:
        out: dict[str, Person] = {}
        items: list[tuple[str, Any]]
        if isinstance(value, Mapping):
            items = list(value.items())
        elif isinstance(value, Sequence) and not isinstance(value, str):
            items = [(str(p.get("id", p.get("name", ""))) if isinstance(p, Mapping) else str(p), p)
                     for p in value]
        else:
            self.bad("people", "expected a mapping of person id to details")
            return out
        for pid, raw in items:
            path = f"people.{pid}"
            raw = raw if isinstance(raw, Mapping) else {}
            tz = self._zone(raw.get("timezone", "UTC"), f"{path}.timezone")
            contact = {k: str(v) for k, v in raw.items()
                       if k in ("slack", "phone", "teams", "pagerduty") and v is not None}
            out[pid] = Person(id=pid, name=str(raw.get("name", pid)), email=raw.get("email"),
                              timezone=tz, away=self._periods(raw.get("away"), f"{path}.away", tz),
                              contact=contact,
                              channels=self._names(raw.get("channels"), f"{path}.channels"))
        return out

    def _roles(self, value: Any) -> dict[str, tuple[str, ...]]:
        out = {}
        for name, raw in self._mapping(value, "roles").items():
            if isinstance(raw, Mapping):
                raw = raw.get("members", raw.get("people"))
            out[name] = self._names(raw, f"roles.{name}")
        return out

    def _model_roles(self, value: Any) -> dict[str, dict[str, tuple[str, ...]]]:
        out = {}
        for i, model in enumerate(value if isinstance(value, Sequence) else ()):
            if isinstance(model, Mapping) and model.get("roles"):
                out[str(model.get("name"))] = {
                    role: self._names(members, f"models[{i}].roles.{role}")
                    for role, members in self._mapping(model["roles"], f"models[{i}].roles").items()
                }
        return out

    def _oncall(self, value: Any) -> dict[str, Rotation]:
        out = {}
        for name, raw in self._mapping(value, "oncall").items():
            path = f"oncall.{name}"
            raw = self._mapping(raw, path)
            members = self._names(raw.get("members"), f"{path}.members")
            if not members:
                self.bad(f"{path}.members", "a rotation needs at least one member")
            kind = str(raw.get("rotation", "weekly"))
            if kind not in ("daily", "weekly"):
                self.bad(f"{path}.rotation", f"unknown rotation {kind!r}; expected daily or weekly")
            tz = self._zone(raw.get("timezone", "UTC"), f"{path}.timezone")
            handoff = self._handoff(raw.get("handoff", "09:00"), f"{path}.handoff")
            day = str(raw.get("handoff_day", "monday")).lower()
            if day not in WEEKDAYS:
                self.bad(f"{path}.handoff_day", f"unknown day {day!r}; expected one of "
                         + ", ".join(WEEKDAYS))
                day = "monday"
            start = raw.get("start", date(2024, 1, 1))
            try:
                start = start if isinstance(start, date) else date.fromisoformat(str(start))
                if isinstance(start, datetime):
                    start = start.date()
            except ValueError:
                self.bad(f"{path}.start", f"{start!r} is not a date; expected YYYY-MM-DD")
                start = date(2024, 1, 1)
            overrides = []
            for i, item in enumerate(raw.get("overrides") or ()):
                where = f"{path}.overrides[{i}]"
                person = item.get("person") if isinstance(item, Mapping) else None
                if not isinstance(person, str):
                    self.bad(f"{where}.person", "expected the id of the person taking over")
                    continue
                period = self._period(item, where, tz)
                if period is not None:
                    overrides.append(Override(person, period))
            out[name] = Rotation(name=name, members=members, kind=kind, handoff=handoff,
                                 handoff_day=WEEKDAYS.index(day), timezone=tz, start=start,
                                 deputies=self._names(raw.get("deputies"), f"{path}.deputies"),
                                 overrides=tuple(overrides))
        return out

    def _handoff(self, value: Any, path: str) -> time:
        if isinstance(value, time):
            return value
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            self.bad(path, f"{value!r} is not a time of day; expected HH:MM")
            return time(9, 0)

    def _raci(self, value: Any) -> dict[Tier, dict[str, tuple[str, ...]]]:
        out = {}
        for key, raw in self._mapping(value, "raci").items():
            tier = self._tier(key, f"raci.{key}")
            raw = self._mapping(raw, f"raci.{key}")
            unknown = set(raw) - set(RACI_ROLES)
            if unknown:
                self.bad(f"raci.{key}", f"unknown RACI role(s) {sorted(unknown)}; expected "
                         + ", ".join(RACI_ROLES))
            if tier is not None:
                out[tier] = {r: self._names(raw.get(r), f"raci.{key}.{r}") for r in RACI_ROLES}
        return out

    def _escalation(self, value: Any) -> dict[Tier, Step]:
        out = {}
        for key, raw in self._mapping(value, "escalation").items():
            path = f"escalation.{key}"
            tier = self._tier(key, path)
            raw = self._mapping(raw, path)
            ack = remind = None
            then = None
            try:
                ack = None if raw.get("ack_within") is None else parse_duration(raw["ack_within"])
                if ack is not None and ack <= timedelta(0):
                    raise ValueError("ack_within must be positive")
            except ValueError as exc:
                self.bad(f"{path}.ack_within", f"{exc}; expected a duration like 30m or 4h")
            try:
                remind = (None if raw.get("remind_every") is None
                          else parse_duration(raw["remind_every"]))
                if remind is not None and remind <= timedelta(0):
                    raise ValueError("remind_every must be positive")
            except ValueError as exc:
                self.bad(f"{path}.remind_every", f"{exc}; expected a duration like 15m")
            deputy = None
            try:
                deputy = (None if raw.get("deputy_after") is None
                          else parse_duration(raw["deputy_after"]))
            except ValueError as exc:
                self.bad(f"{path}.deputy_after", f"{exc}; expected a duration like 10m")
            if raw.get("then") is not None:
                then = self._tier(raw["then"], f"{path}.then")
                if then is not None and tier is not None and then <= tier:
                    self.bad(f"{path}.then", f"escalation must go up: {then} is not above {tier}")
                    then = None
            if tier is not None:
                out[tier] = Step(ack_within=ack, then=then, remind_every=remind,
                                 deputy_after=deputy)
        return out

    def _channels(self, value: Any) -> dict[str, ChannelConfig]:
        out = {}
        for name, raw in self._mapping(value, "channels").items():
            path = f"channels.{name}"
            raw = self._mapping(raw, path)
            ctype = raw.get("type")
            if not isinstance(ctype, str):
                self.bad(f"{path}.type", "missing channel type")
                continue
            audience = str(raw.get("audience", "oncall"))
            if audience not in AUDIENCES:
                self.bad(f"{path}.audience", f"unknown audience {audience!r}; expected one of "
                         + ", ".join(AUDIENCES))
            # Durations become seconds so the settings can be stored as JSON with each queued
            # notification (they hold no secrets: those are only named, in *_env settings).
            settings = {k: v.total_seconds() if isinstance(v, timedelta) else v
                        for k, v in raw.items() if k not in ("type", "audience")}
            out[name] = ChannelConfig(name=name, type=ctype, audience=audience, settings=settings)
        return out

    def _routes(self, value: Any, channels: Mapping[str, ChannelConfig]
                ) -> dict[Tier, tuple[RouteTarget, ...]]:
        out = {}
        for key, raw in self._mapping(value, "routes").items():
            path = f"routes.{key}"
            tier = self._tier(key, path)
            if isinstance(raw, Mapping):
                raw = raw.get("channels", [])
            if isinstance(raw, str):
                raw = [raw]
            targets = []
            for i, item in enumerate(raw or ()):
                where = f"{path}[{i}]"
                name, audience = (item, None) if isinstance(item, str) else (
                    (item.get("channel"), item.get("audience")) if isinstance(item, Mapping)
                    else (None, None))
                if name not in channels:
                    self.bad(where, f"unknown channel {name!r}; known: "
                             + (", ".join(sorted(channels)) or "none"))
                    continue
                audience = audience or channels[name].audience
                if audience not in AUDIENCES:
                    self.bad(f"{where}.audience", f"unknown audience {audience!r}")
                    continue
                targets.append(RouteTarget(name, audience))
            if tier is not None:
                out[tier] = tuple(targets)
        return out

    def _messages(self, value: Any) -> MessagesConfig:
        raw = self._mapping(value, "messages")
        kwargs: dict[str, Any] = {}
        if "pii_fields" in raw:
            kwargs["pii_fields"] = self._names(raw["pii_fields"], "messages.pii_fields")
        if "external_audiences_need_approval" in raw:
            kwargs["external_audiences_need_approval"] = bool(
                raw["external_audiences_need_approval"])
        if "approver_roles" in raw:
            kwargs["approver_roles"] = self._names(raw["approver_roles"],
                                                   "messages.approver_roles")
        url = raw.get("dashboard_url", raw.get("base_url"))
        if url is not None:
            kwargs["dashboard_url"] = str(url).rstrip("/")
        return MessagesConfig(**kwargs)

    def _check_references(self, people: Mapping[str, Person], roles: Mapping[str, Any],
                          oncall: Mapping[str, Rotation], raci: Mapping[Tier, Any]) -> None:
        known = ", ".join(sorted({*people, *roles, *oncall})) or "none"
        for tier, parts in raci.items():
            for role, names in parts.items():
                for name in names:
                    if name not in roles and name not in oncall and name not in people:
                        self.bad(f"raci.{tier}.{role}", f"{name!r} is not a role, rotation or "
                                 f"person; known: {known}")
        if not people:
            return  # without a people section, names stand for themselves
        for name, members in roles.items():
            for m in members:
                if m.startswith(ONCALL_PREFIX):
                    if m.removeprefix(ONCALL_PREFIX) not in oncall:
                        self.bad(f"roles.{name}", f"unknown rotation {m!r}; known: "
                                 + (", ".join(sorted(oncall)) or "none"))
                elif m not in people:
                    self.bad(f"roles.{name}", f"unknown person {m!r}")
        for name, rot in oncall.items():
            for m in (*rot.members, *rot.deputies, *(o.person for o in rot.overrides)):
                if m not in people:
                    self.bad(f"oncall.{name}", f"unknown person {m!r}")
