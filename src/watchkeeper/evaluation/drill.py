"""Tabletop drills: who would be paged, when, and where the policy leaves a gap.

A drill copies the real policy, marks the absent people away, opens the scenario's incident in
a temporary SQLite store and walks a ManualClock through the incident's escalation timeline,
running the real escalation tick at every instant something is due (so the notifications it
lists are the ones the outbox would send). The scenario is injected as the incident it causes
(its tier and description), not replayed through the detectors: the drill tests people and
channels, the backtests test detection.

Gaps reported: nobody on call (a rotation with nobody available at some instant of the drill or
of the coming week), an unreachable channel (secret variable unset here, or a type no notifier
delivers), an acknowledgement deadline longer than the target, no authorised person for the
kill switch or sign-off, and a missing deputy.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from watchkeeper.core.clock import ManualClock, ensure_utc
from watchkeeper.core.enums import IncidentState, Tier
from watchkeeper.core.errors import InputError
from watchkeeper.engine.tick import Engine
from watchkeeper.escalation import EscalationConfig, EscalationService
from watchkeeper.escalation.config import ONCALL_PREFIX, Period
from watchkeeper.escalation.deadlines import timeline
from watchkeeper.escalation.notifiers import NOTIFIERS
from watchkeeper.escalation.oncall import on_call
from watchkeeper.escalation.routing import Route, deputy_route, route
from watchkeeper.incidents import service as incidents
from watchkeeper.policy import Policy
from watchkeeper.sim.scenarios import SCENARIOS
from watchkeeper.store import Store
from watchkeeper.store.tables.escalation import OutboxRow

ACTOR = "drill"
# The tier each scenario's incident reaches in the demo fleet; --tier overrides it.
SCENARIO_TIERS: dict[str, Tier] = {
    "null_flood": Tier.T3, "stuck_feature": Tier.T2, "covariate_shift": Tier.T2,
    "gradual_drift": Tier.T1, "concept_drift": Tier.T2, "latency_spike": Tier.T2,
    "label_delay": Tier.T1, "calibration_decay": Tier.T1, "seasonal_incident": Tier.T2,
}
SCAN = timedelta(days=7)  # "nobody on call" is also checked hourly over the coming week


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    offset: timedelta
    event: str  # trigger | escalate | remind | deputy | acknowledge
    tier: Tier
    people: dict[str, list[str]]  # raci -> people
    reasons: list[str]  # e.g. "erin: deputy for carol (away)"
    channels: list[str]
    ack_deadline: datetime | None
    queued: int  # notifications the real escalation tick queued at this instant

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "offset_min": self.offset.total_seconds() / 60,
                "event": self.event, "tier": self.tier.name, "people": self.people,
                "reasons": self.reasons, "channels": self.channels,
                "ack_deadline": self.ack_deadline.isoformat() if self.ack_deadline else None,
                "queued": self.queued}


@dataclass(frozen=True, slots=True)
class Gap:
    kind: str  # nobody_on_call | unreachable_channel | ack_deadline | no_approver | no_deputy
    where: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "detail": self.detail}


@dataclass
class DrillReport:
    scenario: str
    model: str
    tier: Tier
    started: datetime
    absent: list[str]
    ack_after: timedelta | None
    steps: list[Step] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "model": self.model, "tier": self.tier.name,
                "started": self.started.isoformat(), "absent": self.absent,
                "ack_after_min": self.ack_after.total_seconds() / 60 if self.ack_after else None,
                "steps": [s.to_dict() for s in self.steps],
                "gaps": [g.to_dict() for g in self.gaps]}


def run_drill(policy: Policy, scenario: str, *, model: str | None = None,
              tier: Tier | None = None, start: datetime, ack_after: timedelta | None = None,
              absent: list[str] | tuple[str, ...] = (), max_ack: timedelta | None = None,
              horizon: timedelta = timedelta(hours=4),
              env: dict[str, str] | None = None) -> DrillReport:
    names = [s.name for s in SCENARIOS if not s.control]
    if scenario not in names:
        raise InputError(f"unknown scenario {scenario!r}", field="scenario",
                         expected=", ".join(names))
    model = model or policy.model_names()[0]
    policy.model(model)  # unknown models name the known ones
    start = ensure_utc(start)
    config = EscalationConfig.from_policy(policy)
    unknown = [p for p in absent if p not in config.people]
    if unknown:
        raise InputError(f"unknown people {', '.join(unknown)}", field="absent",
                         expected="people of the policy: " + ", ".join(sorted(config.people)))
    config = _with_absent(config, absent, start - timedelta(days=1), start + SCAN * 2)
    tier = tier or SCENARIO_TIERS.get(scenario, Tier.T2)
    if tier == Tier.T0:
        raise InputError("a T0 incident pages nobody", field="tier", expected="T1, T2 or T3")
    report = DrillReport(scenario, model, tier, start, list(absent), ack_after)
    report.steps = _walk(config, policy, scenario, model, tier, start, ack_after, horizon)
    report.gaps = find_gaps(config, policy, model, report, max_ack=max_ack,
                            env=os.environ if env is None else env)
    return report


def _with_absent(config: EscalationConfig, absent: list[str] | tuple[str, ...],
                 since: datetime, until: datetime) -> EscalationConfig:
    if not absent:
        return config
    people = dict(config.people)
    for pid in absent:
        p = people[pid]
        people[pid] = dataclasses.replace(p, away=(*p.away, Period(since, until)))
    return dataclasses.replace(config, people=people)


def _walk(config: EscalationConfig, policy: Policy, scenario: str, model: str, tier: Tier,
          start: datetime, ack_after: timedelta | None, horizon: timedelta) -> list[Step]:
    """Run the real escalation tick at each due instant on a throw-away store."""
    ack_at = start + ack_after if ack_after is not None else None
    end = start + horizon
    tl = timeline(config.escalation, tier, start, end, acknowledged_at=ack_at)
    instants: list[tuple[datetime, str, Tier]] = []
    for i, lvl in enumerate(tl.levels):
        instants.append((lvl.since, "trigger" if i == 0 else "escalate", lvl.tier))
        if lvl.deputy_at is not None and lvl.deputy_at <= (ack_at or end):
            instants.append((lvl.deputy_at, "deputy", lvl.tier))
        instants += [(r, "remind", lvl.tier) for r in lvl.reminders
                     if r <= (ack_at or end) and r > lvl.since]
    if ack_at is not None and ack_at <= end:
        instants.append((ack_at, "acknowledge", tl.current.tier))
    instants.sort(key=lambda x: x[0])
    description = next(s.description for s in SCENARIOS if s.name == scenario)
    clock = ManualClock(start)
    service = EscalationService(config, clock)
    steps: list[Step] = []
    with tempfile.TemporaryDirectory(prefix="wk-drill-") as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'drill.db'}")
        try:
            with store.session() as s:
                row = incidents.open_incident(s, model=model, tier=tier, actor=ACTOR,
                                              title=f"drill: {scenario}: {description}",
                                              now=start)
                incident_id = row.id
            seen = 0
            for at, event, lvl_tier in instants:
                clock.set(at)
                if event == "acknowledge":
                    with store.session() as s:
                        incidents.transition(s, incident_id, IncidentState.ACKNOWLEDGED,
                                             actor=ACTOR, now=at, rationale="drill ack")
                with store.session() as s:
                    # Escalation derives the escalated levels from the incident's own instants,
                    # as in production: the incident's tier itself does not change.
                    service.tick(s, [Engine.view(s, incidents.get(s, incident_id))], at)
                    total = len(s.scalars(select(OutboxRow.id)).all())
                queued, seen = total - seen, total
                where: Route = (deputy_route if event == "deputy" else route)(
                    config, lvl_tier, at, model)
                level = next((lv for lv in tl.levels if lv.tier == lvl_tier), None)
                steps.append(Step(
                    at, at - start, event, lvl_tier,
                    {k: v for k, v in where.by_raci().items() if v},
                    [f"{a.person}: {a.reason}" for a in where.assignments
                     if a.reason not in ("role member", "person", "rotation")],
                    [t.channel for t in where.channels],
                    level.ack_deadline if level and event != "acknowledge" else None, queued))
        finally:
            store.close()
    return steps


# --- gaps ------------------------------------------------------------------------------------


def find_gaps(config: EscalationConfig, policy: Policy, model: str, report: DrillReport, *,
              max_ack: timedelta | None, env: Any) -> list[Gap]:
    gaps: list[Gap] = []
    gaps += _nobody_on_call(config, report)
    gaps += _unreachable(config, env)
    if max_ack is not None:
        for tier, step in sorted(config.escalation.items()):
            if step.ack_within is not None and step.ack_within > max_ack:
                gaps.append(Gap("ack_deadline", f"escalation.{tier.name}.ack_within",
                                f"{_fmt(step.ack_within)} to acknowledge; the target is "
                                f"{_fmt(max_ack)}"))
    gaps += _no_approver(config, policy, model, report.started)
    gaps += _no_deputy(config, policy, report)
    return gaps


def _nobody_on_call(config: EscalationConfig, report: DrillReport) -> list[Gap]:
    out: list[Gap] = []
    tiers: set[Tier] = set()
    for step in report.steps:
        if (not step.people.get("responsible") and step.event != "acknowledge"
                and step.tier not in tiers):
            tiers.add(step.tier)  # the first silent instant per tier is enough to say
            out.append(Gap("nobody_on_call", f"{step.tier.name} {step.event}",
                           f"nobody responsible is reachable at {step.at:%Y-%m-%d %H:%M} UTC"))
    for name, rot in config.oncall.items():
        t = report.started
        while t < report.started + SCAN:
            shift = on_call(rot, config.people, t)
            if shift.person is None:
                out.append(Gap("nobody_on_call", f"oncall.{name}",
                               f"nobody on call from {t:%Y-%m-%d %H:%M} UTC: {shift.reason}"))
                break
            t += timedelta(hours=1)
    return out


def _unreachable(config: EscalationConfig, env: Any) -> list[Gap]:
    used = {t.channel for targets in config.routes.values() for t in targets}
    used |= {c for p in config.people.values() for c in p.channels}
    out: list[Gap] = []
    for name in sorted(used):
        ch = config.channels.get(name)
        if ch is None:
            out.append(Gap("unreachable_channel", f"channels.{name}", "routed to but not defined"))
            continue
        if ch.type not in NOTIFIERS:
            out.append(Gap("unreachable_channel", f"channels.{name}",
                           f"type {ch.type!r} has no notifier; known: "
                           + ", ".join(sorted(NOTIFIERS))))
        for key, var in sorted(ch.settings.items()):
            if key.endswith("_env") and var and var not in env:
                out.append(Gap("unreachable_channel", f"channels.{name}.{key}",
                               f"${var} is not set here: sending would fail"))
    return out


def _holders(config: EscalationConfig, policy: Policy, role: str, model: str,
             at: datetime) -> list[str]:
    """People present at `at` who hold `role` (rotations resolved to whoever is on call)."""
    try:
        members = policy.role_members(role, model)
    except LookupError:
        return []
    out = []
    for m in members:
        if m.startswith(ONCALL_PREFIX):
            rot = config.oncall.get(m.removeprefix(ONCALL_PREFIX))
            person = on_call(rot, config.people, at).person if rot else None
        else:
            p = config.people.get(m)
            person = m if p is None or not p.is_away(at) else None
        if person:
            out.append(person)
    return out


def _no_approver(config: EscalationConfig, policy: Policy, model: str,
                 at: datetime) -> list[Gap]:
    out = []
    needs = [("kill switch", "mitigation.kill_switch_roles",
              list(policy.mitigation.kill_switch_roles))]
    sign_off = policy.mitigation.sign_off
    needs.append(("sign-off", "mitigation.sign_off.roles", list(getattr(sign_off, "roles", []))))
    for what, path, roles in needs:
        if not roles:
            continue
        holders = {p for r in roles for p in _holders(config, policy, r, model, at)}
        two = what == "kill switch" and policy.mitigation.two_person_rule
        if not holders or (two and len(holders) < 2):
            need = "two people (two-person rule)" if two else "somebody"
            out.append(Gap("no_approver", path,
                           f"{what} for {model} needs {need} holding {', '.join(roles)}; "
                           f"available: {', '.join(sorted(holders)) or 'nobody'}"))
    return out


def _no_deputy(config: EscalationConfig, policy: Policy, report: DrillReport) -> list[Gap]:
    out = []
    tiers = {s.tier for s in report.steps}
    rotations: set[str] = set()
    for tier in tiers:
        for role in config.raci.get(tier, {}).get("responsible", ()):
            members = config.roles.get(role, (role,))
            rotations |= {m.removeprefix(ONCALL_PREFIX) for m in (role, *members)
                          if m.removeprefix(ONCALL_PREFIX) in config.oncall}
    for name in sorted(rotations):
        rot = config.oncall[name]
        present = [d for d in rot.deputies
                   if not (config.people.get(d) and config.people[d].is_away(report.started))]
        if not rot.deputies:
            out.append(Gap("no_deputy", f"oncall.{name}.deputies",
                           "no deputy: when the person on shift is silent nobody else is paged "
                           "before the tier escalates"))
        elif not present:
            out.append(Gap("no_deputy", f"oncall.{name}.deputies",
                           f"every deputy is away ({', '.join(rot.deputies)})"))
    return out


def _fmt(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
