"""The whole policy. Each section validates itself; this level only checks that sections refer
to things that exist (roles, people, rotations, channels, tiers)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PrivateAttr, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails

from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import NotFoundError
from watchkeeper.policy.catalogue import METRICS
from watchkeeper.policy.channels import Channel, EmailChannel
from watchkeeper.policy.common import (
    Loc,
    Name,
    Section,
    TierKey,
    one_of,
    problem,
    raise_problems,
)
from watchkeeper.policy.escalation import Escalation, RouteItem
from watchkeeper.policy.messages import MessagesPolicy
from watchkeeper.policy.mitigation import IncidentsPolicy, MitigationPolicy, Playbooks
from watchkeeper.policy.models import ModelPolicy
from watchkeeper.policy.people import (
    ONCALL_PREFIX,
    Person,
    RaciEntry,
    RoleMembers,
    Rotation,
)
from watchkeeper.policy.retention import RetentionPolicy
from watchkeeper.policy.scoring import ScoringPolicy
from watchkeeper.policy.signals import SignalSettings, merge_signals


def _unique_names(models: list[ModelPolicy]) -> list[ModelPolicy]:
    first: dict[str, int] = {}
    problems = []
    for i, m in enumerate(models):
        if m.name in first:
            problems.append(problem((i, "name"), f"duplicate model name {m.name!r} (also "
                                    f"models[{first[m.name]}])", m.name))
        first.setdefault(m.name, i)
    raise_problems("models", problems)
    return models


class Policy(Section):
    version: Literal[1] = Field(description="Policy format version; 1.")
    models: Annotated[list[ModelPolicy], AfterValidator(_unique_names)] = Field(
        min_length=1, description="The monitored models."
    )
    signals: SignalSettings = Field(
        default_factory=SignalSettings, description="Detector settings (defaults for all models)."
    )
    scoring: ScoringPolicy = Field(default_factory=ScoringPolicy, description="Score and tiers.")
    people: dict[Name, Person] = Field(default_factory=dict, description="Person id -> contact.")
    roles: dict[Name, RoleMembers] = Field(
        default_factory=dict, description="Role -> people and/or oncall:<rotation>."
    )
    raci: dict[TierKey, RaciEntry] = Field(
        default_factory=dict, description="Per tier: responsible, accountable, consulted, informed."
    )
    oncall: dict[Name, Rotation] = Field(default_factory=dict, description="On-call rotations.")
    escalation: Escalation = Field(default_factory=dict, description="Ack deadlines per tier.")
    channels: dict[Name, Channel] = Field(default_factory=dict, description="Where messages go.")
    routes: dict[TierKey, list[RouteItem]] = Field(
        default_factory=dict, description="Per tier: channels notified."
    )
    playbooks: Playbooks = Field(default_factory=dict, description="Per tier: actions taken.")
    mitigation: MitigationPolicy = Field(
        default_factory=MitigationPolicy, description="Kill switch, gates, rollout, sign-off."
    )
    incidents: IncidentsPolicy = Field(
        default_factory=IncidentsPolicy, description="Incident lifecycle."
    )
    messages: MessagesPolicy = Field(default_factory=MessagesPolicy, description="Message rules.")
    retention: RetentionPolicy = Field(
        default_factory=RetentionPolicy, description="How long data is kept."
    )

    # Set by the loader: where relative paths (reference data) start, and the file's name.
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: str = PrivateAttr(default="<policy>")
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)
    _by_name: dict[str, ModelPolicy] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Policy:
        # The loader checks references itself (also when some sections failed) to report
        # every problem at once; direct Python construction gets the check here.
        if not (info.context or {}).get("skip_references"):
            raise_problems("policy", reference_problems(self))
        return self

    # --- helpers for other stages ---

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def source(self) -> str:
        return self._source

    def where(self, path: str) -> str:
        """`path` with its line in the policy file where known, for messages about the policy
        found after loading (e.g. `models[0].reference` names a missing file)."""
        line = self._lines.get(path)
        return f"{path} (line {line})" if line else path

    def model(self, name: str) -> ModelPolicy:
        if self._by_name is None:  # a fleet may hold thousands; look up in O(1)
            self._by_name = {m.name: m for m in self.models}
        found = self._by_name.get(name)
        if found is not None:
            return found
        raise NotFoundError(f"unknown model {name!r}; expected one of "
                            f"{one_of(sorted(m.name for m in self.models))}")

    def model_names(self) -> list[str]:
        return [m.name for m in self.models]

    def signals_for(self, name: str) -> SignalSettings:
        """The model's effective signal settings: its override merged over the defaults."""
        return merge_signals(self.signals, self.model(name).signals)

    def reference_path(self, name: str) -> Path:
        return (self._base_dir / self.model(name).reference).resolve()

    def role_members(self, role: str, model: str | None = None) -> list[str]:
        """Who holds a role: person ids and `oncall:<rotation>` entries; a model's own
        `roles:` wins over the top-level one."""
        if model is not None and role in self.model(model).roles:
            return list(self.model(model).roles[role])
        if role in self.roles:
            return list(self.roles[role])
        raise NotFoundError(f"unknown role {role!r}; expected one of {one_of(sorted(self.roles))}")

    def escalation_chain(self, start: Tier) -> list[Tier]:
        """The tiers an unacknowledged incident moves through, starting at `start`."""
        chain = [start]
        while (step := self.escalation.get(chain[-1])) and step.then is not None:
            chain.append(step.then)
        return chain


# --- cross references -----------------------------------------------------------------------

SECTIONS = tuple(Policy.model_fields)
_Check = Callable[[Policy], Iterator[InitErrorDetails]]
_CHECKS: list[tuple[frozenset[str], _Check]] = []


def _needs(*sections: str) -> Callable[[_Check], _Check]:
    """Register a check with the sections it reads; it is skipped when one of them failed."""

    def register(fn: _Check) -> _Check:
        _CHECKS.append((frozenset(sections), fn))
        return fn

    return register


def reference_problems(policy: Policy, valid: Collection[str] = SECTIONS
                       ) -> list[InitErrorDetails]:
    """Cross-reference problems of `policy`, running only checks whose sections are `valid`."""
    out: list[InitErrorDetails] = []
    for sections, check in _CHECKS:
        if sections <= set(valid):
            out.extend(check(policy))
    return out


def _unknown(what: str, name: str, known: Collection[str]) -> str:
    return f"unknown {what} {name!r}; expected one of {one_of(sorted(known))}"


def _all_roles(policy: Policy) -> set[str]:
    """Roles defined at the top, or by every model (so none resolves to nobody)."""
    per_model = [set(m.roles) for m in policy.models]
    shared = set.intersection(*per_model) if per_model else set()
    return set(policy.roles) | shared


@_needs("models", "people")
def _owners(policy: Policy) -> Iterator[InitErrorDetails]:
    for i, m in enumerate(policy.models):
        if m.owner not in policy.people:
            yield problem(("models", i, "owner"), _unknown("person", m.owner, policy.people),
                          m.owner)


def _member_problems(policy: Policy, loc: Loc, members: list[str]) -> Iterator[InitErrorDetails]:
    for j, member in enumerate(members):
        if member.startswith(ONCALL_PREFIX):
            rotation = member.removeprefix(ONCALL_PREFIX)
            if rotation not in policy.oncall:
                yield problem((*loc, j), _unknown("on-call rotation", rotation, policy.oncall),
                              member)
        elif member not in policy.people:
            hint = f" (for the rotation write oncall:{member})" if member in policy.oncall else ""
            yield problem((*loc, j), _unknown("person", member, policy.people) + hint, member)


@_needs("roles", "people", "oncall")
def _role_members(policy: Policy) -> Iterator[InitErrorDetails]:
    for role, members in policy.roles.items():
        yield from _member_problems(policy, ("roles", role), members)


@_needs("models", "people", "oncall")
def _model_role_members(policy: Policy) -> Iterator[InitErrorDetails]:
    for i, m in enumerate(policy.models):
        for role, members in m.roles.items():
            yield from _member_problems(policy, ("models", i, "roles", role), members)


@_needs("raci", "roles", "models")
def _raci_roles(policy: Policy) -> Iterator[InitErrorDetails]:
    known = _all_roles(policy)
    for tier, entry in policy.raci.items():
        for part in ("responsible", "accountable", "consulted", "informed"):
            for j, role in enumerate(getattr(entry, part)):
                if role not in known:
                    yield problem(("raci", tier.name, part, j), _unknown("role", role, known),
                                  role)


@_needs("oncall", "people")
def _rotation_people(policy: Policy) -> Iterator[InitErrorDetails]:
    for name, rot in policy.oncall.items():
        for part in ("members", "deputies"):
            for j, person in enumerate(getattr(rot, part)):
                if person not in policy.people:
                    yield problem(("oncall", name, part, j),
                                  _unknown("person", person, policy.people), person)
        for j, override in enumerate(rot.overrides):
            if override.person not in policy.people:
                yield problem(("oncall", name, "overrides", j, "person"),
                              _unknown("person", override.person, policy.people), override.person)


@_needs("escalation", "raci", "routes")
def _escalation_targets(policy: Policy) -> Iterator[InitErrorDetails]:
    for tier, step in policy.escalation.items():
        target = step.then
        if target is not None and target not in policy.raci and target not in policy.routes:
            yield problem(("escalation", tier.name, "then"),
                          f"tier {target.name} has no raci entry and no route, so escalating to "
                          "it would notify no one", target.name)


@_needs("routes", "channels")
def _route_channels(policy: Policy) -> Iterator[InitErrorDetails]:
    for tier, targets in policy.routes.items():
        for j, target in enumerate(targets):
            if target.channel not in policy.channels:
                yield problem(("routes", tier.name, j, "channel"),
                              _unknown("channel", target.channel, policy.channels),
                              target.channel)


@_needs("people", "channels")
def _person_channels(policy: Policy) -> Iterator[InitErrorDetails]:
    for pid, person in policy.people.items():
        for j, name in enumerate(person.channels):
            channel = policy.channels.get(name)
            if channel is None:
                yield problem(("people", pid, "channels", j),
                              _unknown("channel", name, policy.channels), name)
            elif isinstance(channel, EmailChannel) and person.email is None:
                yield problem(("people", pid, "channels", j),
                              f"channel {name!r} sends email, but {pid} has no email", name)


@_needs("mitigation", "roles", "models")
def _mitigation_roles(policy: Policy) -> Iterator[InitErrorDetails]:
    known = _all_roles(policy)
    for j, role in enumerate(policy.mitigation.kill_switch_roles):
        if role not in known:
            yield problem(("mitigation", "kill_switch_roles", j), _unknown("role", role, known),
                          role)
    for j, role in enumerate(policy.mitigation.sign_off.roles):
        if role not in known:
            yield problem(("mitigation", "sign_off", "roles", j), _unknown("role", role, known),
                          role)


@_needs("mitigation", "models")
def _champion_metric(policy: Policy) -> Iterator[InitErrorDetails]:
    metric = policy.mitigation.gates.beat_champion.metric
    if metric is None:
        return
    for i, m in enumerate(policy.models):
        if metric not in METRICS[m.task]:
            yield problem(("mitigation", "gates", "beat_champion", "metric"),
                          f"metric {metric!r} does not apply to models[{i}] ({m.name}, "
                          f"{m.task.value}); expected one of {one_of(METRICS[m.task])}", metric)
            return


def construct_partial(values: dict[str, Any]) -> Policy:
    """A Policy from already-validated sections, without validation (for partial checks)."""
    return Policy.model_construct(**values)
