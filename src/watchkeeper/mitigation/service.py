"""The only module of the mitigation stage that touches the store: routing state, kill switch,
aliases, playbook runs, quarantines, retraining runs and rollouts.

Every routing change bumps the routing revision (routers refresh on it) and is audited. The
engine calls `on_incident_changes` after triage (inside its transaction), `run_retrain` for
each queued run outside it (training takes time), and `advance` on every tick.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper import audit
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import SYSTEM_CLOCK, Clock, ensure_utc
from watchkeeper.core.enums import IncidentState, Task, Tier
from watchkeeper.core.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from watchkeeper.core.ids import new_id
from watchkeeper.incidents import service as incidents
from watchkeeper.incidents.lifecycle import ACTIVE
from watchkeeper.incidents.service import Change
from watchkeeper.ingest import IngestService
from watchkeeper.ingest.eventlog import EventLog
from watchkeeper.ingest.service.reads import read_events
from watchkeeper.mitigation import (
    data,
    gates,
    killswitch,
    metrics,
    playbook,
    rollout,
    sandbox,
    training,
)
from watchkeeper.mitigation.actions.base import ACTOR, ActionContext, Plan, Request, Result
from watchkeeper.mitigation.authority import roles_held
from watchkeeper.mitigation.data import Window
from watchkeeper.mitigation.registry.base import Lineage
from watchkeeper.mitigation.registry.local import LocalRegistry
from watchkeeper.mitigation.routing import KillSwitch, RouteDecision, RoutingState, route
from watchkeeper.mitigation.training import TrainJob
from watchkeeper.mitigation.weighting import density_ratio_weights
from watchkeeper.policy import Policy
from watchkeeper.policy.catalogue import OPERATIONAL_METRICS
from watchkeeper.store import Store
from watchkeeper.store.tables.incidents import Incident
from watchkeeper.store.tables.mitigation import (
    DataQuarantine,
    MitigationRun,
    RoutingStateRow,
)
from watchkeeper.store.tables.mitigation import Rollout as RolloutRow


def registry(session: Session, data_dir: Path) -> LocalRegistry:
    return LocalRegistry(session, data_dir)


def _row(session: Session, model: str, now: datetime, *, lock: bool = False) -> RoutingStateRow:
    row = session.get(RoutingStateRow, model, with_for_update=lock)
    if row is None:
        row = RoutingStateRow(model=model, canary_share=0.0, kill_active=False,
                              kill_fallback="previous_version", kill_reason="", kill_by="",
                              revision=0, updated_at=ensure_utc(now))
        session.add(row)
        session.flush()
    return row


def routing_state(session: Session, model: str) -> RoutingState:
    row = session.get(RoutingStateRow, model)
    if row is None:
        return RoutingState(model=model)
    return RoutingState(
        model=model, champion=row.champion, fallback_version=row.fallback_version,
        canary=row.canary, canary_share=row.canary_share, shadow=row.shadow,
        kill_switch=KillSwitch(active=row.kill_active, fallback=row.kill_fallback,
                               reason=row.kill_reason, thrown_by=row.kill_by,
                               thrown_at=row.kill_at, expires_at=row.kill_expires_at),
        revision=row.revision,
    )


def decide(session: Session, model: str, key: str, now: datetime) -> RouteDecision:
    """What GET /v1/models/{model}/route answers."""
    return route(routing_state(session, model), key, now)


def _bump(session: Session, row: RoutingStateRow, now: datetime, *, actor: str,
          action: AuditAction, details: dict) -> None:
    row.revision += 1
    row.updated_at = ensure_utc(now)
    audit.append(session, actor=actor, action=action, subject=f"model:{row.model}",
                 details={**details, "revision": row.revision}, at=now)


def set_champion(session: Session, model: str, version: int, *, actor: str, now: datetime,
                 data_dir: Path, reason: str = "") -> RoutingState:
    """Serve `version` to all traffic; the previous champion becomes the fallback."""
    reg = registry(session, data_dir)
    reg.get(model, version)
    row = _row(session, model, now, lock=True)
    previous = row.champion
    if previous is not None and previous != version:
        row.fallback_version = previous
        reg.set_alias(model, "fallback", previous, actor=actor, now=now)
        reg.set_status(model, previous, "retired")
    row.champion, row.canary, row.canary_share = version, None, 0.0
    reg.set_alias(model, "champion", version, actor=actor, now=now)
    reg.set_status(model, version, "serving")
    _bump(session, row, now, actor=actor, action=AuditAction.PROMOTION,
          details={"champion": version, "previous": previous, "reason": reason})
    return routing_state(session, model)


def set_canary(session: Session, model: str, version: int | None, share: float, *, actor: str,
               now: datetime, data_dir: Path, shadow: bool = False) -> RoutingState:
    """Send `share` (0..1) of traffic to `version`; share 0 with shadow=True mirrors only."""
    if not 0.0 <= share <= 1.0:
        raise InputError(f"canary share {share} is outside [0, 1]", field="share")
    row = _row(session, model, now, lock=True)
    if version is not None:
        registry(session, data_dir).get(model, version)
        registry(session, data_dir).set_alias(model, "canary", version, actor=actor, now=now)
    row.canary = None if shadow else version
    row.canary_share = 0.0 if shadow or version is None else share
    row.shadow = version if shadow else None
    _bump(session, row, now, actor=actor, action=AuditAction.ROLLOUT,
          details={"canary": row.canary, "share": row.canary_share, "shadow": row.shadow})
    return routing_state(session, model)


def rollback(session: Session, model: str, *, actor: str, now: datetime,
             reason: str) -> RoutingState:
    """Take the canary and shadow out of traffic at once; the champion keeps serving."""
    row = _row(session, model, now, lock=True)
    removed = row.canary or row.shadow
    row.canary, row.canary_share, row.shadow = None, 0.0, None
    _bump(session, row, now, actor=actor, action=AuditAction.ROLLBACK,
          details={"removed": removed, "reason": reason})
    return routing_state(session, model)


def throw_kill_switch(
    session: Session,
    model: str,
    *,
    actor: str,
    actor_roles: Iterable[str],
    allowed_roles: Iterable[str],
    reason: str,
    fallback: str,
    now: datetime,
    expires_in: timedelta | None = None,
) -> RoutingState:
    """Route all traffic to the fallback.

    A refusal raises PermissionDenied before anything changes; the surface that called this
    audits the refusal in its own transaction (this one is rolled back)."""
    killswitch.check_allowed(actor, actor_roles, allowed_roles)
    why = killswitch.check_reason(reason)
    row = _row(session, model, now, lock=True)
    if row.kill_active and (row.kill_expires_at is None or row.kill_expires_at > now):
        raise ConflictError(f"the kill switch of {model} is already thrown (by {row.kill_by}: "
                            f"{row.kill_reason})")
    row.kill_active, row.kill_reason, row.kill_by = True, why, actor
    row.kill_fallback, row.kill_at = fallback, ensure_utc(now)
    row.kill_expires_at = killswitch.expiry(ensure_utc(now), expires_in)
    _bump(session, row, now, actor=actor, action=AuditAction.KILL_SWITCH,
          details={"reason": why, "fallback": fallback,
                   "expires_at": row.kill_expires_at.isoformat() if row.kill_expires_at
                   else None})
    return routing_state(session, model)


def restore(
    session: Session,
    model: str,
    *,
    actor: str,
    actor_roles: Iterable[str],
    allowed_roles: Iterable[str],
    reason: str,
    now: datetime,
) -> RoutingState:
    """Undo the kill switch: traffic goes back to champion and canary."""
    killswitch.check_allowed(actor, actor_roles, allowed_roles)
    why = killswitch.check_reason(reason)
    row = _row(session, model, now, lock=True)
    if not row.kill_active:
        raise ConflictError(f"the kill switch of {model} is not thrown")
    row.kill_active = False
    _bump(session, row, now, actor=actor, action=AuditAction.KILL_SWITCH_RESTORED,
          details={"reason": why, "was": row.kill_reason})
    return routing_state(session, model)


# ================================================================================================
# Playbook runs: idempotent, audited, on the incident's timeline
# ================================================================================================


def once(ctx: ActionContext, action: str, plan: Plan,
         work: Callable[[MitigationRun], Result]) -> Result:
    """Run `work` at most once per incident, action and tier (MitigationRun.idempotency_key)."""
    key = ctx.key(action)
    done = ctx.session.scalars(select(MitigationRun).where(
        MitigationRun.idempotency_key == key)).first()
    if done is not None:
        return Result(action, "already_done", f"{action} already {done.status} for "
                      f"{ctx.incident.id} at {ctx.tier} (run {done.id})", done.id,
                      dict(done.result.get("details") or {}))
    now = ensure_utc(ctx.now)
    run = MitigationRun(id=new_id("run"), idempotency_key=key, incident_id=ctx.incident.id,
                        model=ctx.model, action=action, status="running", started_at=now,
                        actor=ctx.actor, plan=_json(plan.to_dict()), result={})
    ctx.session.add(run)
    ctx.session.flush()
    result = work(run)
    run.status = result.status
    run.result = _json(result.to_dict())
    if result.status not in ("queued", "waiting"):
        run.finished_at = now
    incidents.record(ctx.session, ctx.incident, at=now, actor=ctx.actor, type="mitigation",
                     text=f"{action}: {result.summary}",
                     details={"action": action, "status": result.status, "run_id": run.id,
                              "tier": str(ctx.tier)})
    audit.append(ctx.session, actor=ctx.actor, action=AuditAction.ACTION_EXECUTED,
                 subject=ctx.incident.id, details={"action": action, "status": result.status,
                                                   "run_id": run.id, "summary": result.summary},
                 at=now)
    return result


def _json(value: Any) -> Any:
    """JSON-safe copy (datetimes and enums as text) for JSON columns."""
    return json.loads(json.dumps(value, default=str))


def get_run(session: Session, run_id: str) -> MitigationRun:
    row = session.get(MitigationRun, run_id)
    if row is None:
        raise NotFoundError(f"no mitigation run {run_id!r}")
    return row


def list_runs(session: Session, *, incident_id: str | None = None, model: str | None = None,
              status: str | None = None, limit: int = 200) -> list[MitigationRun]:
    q = select(MitigationRun).order_by(MitigationRun.started_at.desc()).limit(limit)
    if status:
        q = q.where(MitigationRun.status == status)
    if incident_id:
        q = q.where(MitigationRun.incident_id == incident_id)
    if model:
        q = q.where(MitigationRun.model == model)
    return list(session.scalars(q))


def frozen_by(session: Session, model: str) -> str | None:
    """The active incident that froze automatic changes of `model`, if any."""
    q = (select(MitigationRun.incident_id).join(Incident, Incident.id == MitigationRun.incident_id)
         .where(MitigationRun.model == model, MitigationRun.action == "freeze",
                MitigationRun.status == "done", Incident.state.in_([s.value for s in ACTIVE])))
    return session.scalars(q).first()


# --- quarantine ----------------------------------------------------------------------------------


def quarantine_window(session: Session, model: str, *, start: datetime, feature: str | None,
                      check: str | None, reason: str, incident_id: str | None, actor: str,
                      now: datetime) -> DataQuarantine:
    row = DataQuarantine(id=new_id("qua"), model=model, start=ensure_utc(start), end=None,
                         feature=feature, check=check, reason=reason[:4000],
                         incident_id=incident_id, created_at=ensure_utc(now), created_by=actor)
    session.add(row)
    session.flush()
    audit.append(session, actor=actor, action=AuditAction.ACTION_EXECUTED,
                 subject=f"model:{model}", details={"quarantine": row.id, "feature": feature,
                                                    "since": row.start, "reason": reason},
                 at=now)
    return row


def quarantined_windows(session: Session, model: str, now: datetime) -> list[Window]:
    rows = session.scalars(select(DataQuarantine).where(
        DataQuarantine.model == model, DataQuarantine.released_at.is_(None)))
    return [Window(r.start, r.end or ensure_utc(now)) for r in rows]


def close_quarantines(session: Session, incident_id: str, *, actor: str,
                      now: datetime) -> list[DataQuarantine]:
    """The incident is resolved: its quarantined window ends now (the data stays excluded)."""
    rows = list(session.scalars(select(DataQuarantine).where(
        DataQuarantine.incident_id == incident_id, DataQuarantine.end.is_(None))))
    for r in rows:
        r.end = ensure_utc(now)
        audit.append(session, actor=actor, action=AuditAction.ACTION_EXECUTED,
                     subject=f"model:{r.model}", details={"quarantine": r.id,
                                                          "closed_at": r.end}, at=now)
    return rows


def release_quarantine(session: Session, quarantine_id: str, *, actor: str,
                       now: datetime) -> DataQuarantine:
    """A person decided the data was fine after all: retraining may use it again."""
    row = session.get(DataQuarantine, quarantine_id)
    if row is None:
        raise NotFoundError(f"no quarantine {quarantine_id!r}")
    row.released_at, row.released_by = ensure_utc(now), actor
    audit.append(session, actor=actor, action=AuditAction.ACTION_EXECUTED,
                 subject=f"model:{row.model}", details={"quarantine_released": row.id}, at=now)
    return row


# --- the engine's entry point after triage ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What mitigation did about one incident change."""

    incident_id: str
    model: str
    tier: Tier
    actions: list[str]
    plans: list[Plan]
    results: list[Result]

    @property
    def requests(self) -> list[Request]:
        return [r for res in self.results for r in res.requests]

    @property
    def retrain_runs(self) -> list[str]:
        return [r.run_id for r in self.requests if r.type == "retrain" and r.run_id]


TRIGGERS = ("opened", "upgraded", "reopened")


def _context(session: Session, policy: Policy, incident: Incident, now: datetime,
             data_dir: Path) -> tuple[ActionContext, list[str]]:
    tier = Tier(incident.tier)
    window = incidents.latest_event(session, incident.id, "window")
    contributors = list((window.details or {}).get("contributors", [])) if window else []
    cause = playbook.root_cause(incident.family, contributors, incident.change_point_at)
    chosen = playbook.choose(policy.playbooks, tier, cause,
                             quarantine_on_data_quality=policy.mitigation.quarantine_on_data_quality,
                             fallback=policy.model(incident.model).fallback)
    ctx = ActionContext(session, policy, incident, tier, ensure_utc(now), Path(data_dir), cause,
                        chosen)
    return ctx, chosen


def plan_incident(session: Session, policy: Policy, incident_id: str, now: datetime,
                  data_dir: Path) -> list[Plan]:
    """The dry run: what the playbook would do for the incident now. Changes nothing."""
    from watchkeeper.mitigation.actions import ACTIONS

    ctx, chosen = _context(session, policy, incidents.get(session, incident_id), now, data_dir)
    return [ACTIONS[a].plan(ctx) for a in chosen]


def on_incident_changes(session: Session, policy: Policy, changes: Iterable[Change],
                        now: datetime, data_dir: Path, *, execute: bool = True) -> list[Outcome]:
    """Plan (and, unless `execute=False`, run) the playbook of each opened, upgraded or reopened
    incident; close the quarantines of resolved ones. Idempotent: a change seen twice runs
    nothing twice. Retraining is only queued here: hand `Outcome.retrain_runs` to
    `run_retrain` outside this transaction, and `Outcome.requests` of type page to escalation."""
    from watchkeeper.mitigation.actions import ACTIONS

    outcomes = []
    for change in changes:
        incident = incidents.get(session, change.incident_id)
        if change.what == "resolved":
            close_quarantines(session, incident.id, actor=ACTOR, now=now)
            continue
        if change.what not in TRIGGERS:
            continue
        if incident.model not in policy.model_names():
            continue
        ctx, chosen = _context(session, policy, incident, now, data_dir)
        plans = [ACTIONS[a].plan(ctx) for a in chosen]
        results = [ACTIONS[a].execute(ctx) for a in chosen] if execute else []
        if execute and chosen and IncidentState(incident.state) in (
                IncidentState.OPEN, IncidentState.ACKNOWLEDGED) and any(
                r.status in ("done", "queued") for r in results):
            incidents.transition(session, incident.id, IncidentState.MITIGATING, actor=ACTOR,
                                 now=now, rationale="playbook " + ", ".join(chosen))
        outcomes.append(Outcome(incident.id, incident.model, ctx.tier, chosen, plans, results))
    return outcomes


# ================================================================================================
# Retraining: plan in the triage transaction, train in a sandbox outside it
# ================================================================================================


def primary_metric(policy: Policy, model: str) -> str:
    mp = policy.model(model)
    if policy.mitigation.gates.beat_champion.metric:
        return policy.mitigation.gates.beat_champion.metric
    for kpi in mp.kpis:
        if kpi.metric not in OPERATIONAL_METRICS:
            return kpi.metric
    return metrics.DEFAULT_METRIC[mp.task]


def plan_training(ctx: ActionContext, action: str) -> Plan:
    """The plan of a retrain or threshold recalibration (read-only checks of freezes, the daily
    budget, data-quality causes and quarantines)."""
    mp = ctx.policy.model(ctx.model)
    change_at = ctx.incident.change_point_at or ctx.incident.opened_at
    window = data.training_window(change_at, ctx.now, mp.retrain.history)
    quarantined = quarantined_windows(ctx.session, ctx.model, ctx.now)
    since = ctx.now - timedelta(days=1)
    today = ctx.session.scalar(select(func.count()).select_from(MitigationRun).where(
        MitigationRun.model == ctx.model,
        MitigationRun.action.in_(["retrain", "recalibrate_threshold"]),
        MitigationRun.status != "skipped", MitigationRun.started_at >= since)) or 0
    details = {"template": mp.retrain.template, "window_start": window.start.isoformat(),
               "window_end": window.end.isoformat(), "change_point": change_at.isoformat(),
               "history": str(mp.retrain.history), "hpo_budget": mp.retrain.hpo_budget,
               "timeout_s": mp.retrain.timeout.total_seconds(),
               "memory_mb": mp.retrain.memory_mb, "weighting": mp.retrain.weighting,
               "metric": primary_metric(ctx.policy, ctx.model),
               "quarantined": [[w.start.isoformat(), w.end.isoformat()] for w in quarantined],
               "retrains_last_24h": int(today), "max_per_day": mp.retrain.max_per_day}
    if action == "recalibrate_threshold":
        summary = f"re-choose {ctx.model}'s decision threshold on labelled data since " \
                  f"{window.start:%Y-%m-%d %H:%M}, then gate and roll out"
    else:
        summary = (f"retrain {ctx.model} with {mp.retrain.template} on "
                   f"{window.start:%Y-%m-%d %H:%M} .. {window.end:%Y-%m-%d %H:%M} "
                   f"(hpo budget {mp.retrain.hpo_budget}), gate, then roll out in stages")
    blocked = ""
    if ctx.cause.data_quality and ctx.policy.mitigation.quarantine_on_data_quality:
        blocked = "the cause is data quality: no training on broken data"
    elif (by := frozen_by(ctx.session, ctx.model)) is not None:
        blocked = f"automatic changes of {ctx.model} are frozen by incident {by}"
    elif today >= mp.retrain.max_per_day:
        blocked = f"{today} retrains in the last 24 h reach max_per_day {mp.retrain.max_per_day}"
    elif action == "recalibrate_threshold" and mp.task != Task.BINARY_CLASSIFICATION:
        blocked = "threshold recalibration applies to binary classifiers only"
    elif action == "recalibrate_threshold" and routing_state(ctx.session, ctx.model).champion \
            is None:
        blocked = "no champion to recalibrate"
    return Plan(action, ctx.model, ctx.incident.id, summary, details, not blocked, blocked)


@dataclass(frozen=True, slots=True)
class RetrainOutcome:
    run_id: str
    status: str  # rolled_out | rejected | failed | skipped | waiting (for clean labelled data)
    summary: str
    version: int | None = None
    rollout_id: str | None = None
    gates: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)


def run_retrain(store: Store, policy: Policy, run_id: str, *, data_dir: Path,
                now: datetime | None = None, clock: Clock = SYSTEM_CLOCK,
                actor: str = ACTOR) -> RetrainOutcome:
    """Run one queued retrain (or threshold recalibration): read the data window, train in the
    sandbox, gate, register the candidate and start its rollout. Short transactions around a
    long, transaction-free training step; a run already started is not run again."""
    started = ensure_utc(now or clock.now())
    with store.session() as s:
        # claim it under a row lock: two workers (or a worker and the API) never both train
        run = s.get(MitigationRun, run_id, with_for_update=True) or get_run(s, run_id)
        if run.status != "queued":
            return RetrainOutcome(run_id, "skipped", f"run {run_id} is {run.status}, not queued")
        run.status = "running"
        model, action, incident_id, cfg = run.model, run.action, run.incident_id, dict(run.plan)
        details = dict(cfg.get("details") or {})
        if (run.result or {}).get("data_waits"):  # waited for labels: read up to now
            details["window_end"] = started.isoformat()
        champion = routing_state(s, model).champion
        quarantined = quarantined_windows(s, model, started)
        champ_info = LocalRegistry(s, data_dir).get(model, champion) if champion else None
    mp = policy.model(model)
    window = Window(datetime.fromisoformat(details["window_start"]),
                    datetime.fromisoformat(details["window_end"]))
    change_at = datetime.fromisoformat(details["change_point"])
    metric = details.get("metric") or primary_metric(policy, model)
    gates_cfg = policy.mitigation.gates
    segments = [gates_cfg.fairness.attribute] if gates_cfg.fairness.attribute else []
    label_dtype = float if mp.task == Task.REGRESSION else int
    try:
        columns = data.Columns.from_schema(dict(mp.data_schema.features))
        table = IngestService(store, policy, data_dir).read_events(model, window.start,
                                                                   window.end)
        ds = data.dataset_from_events(table, columns, quarantined=quarantined,
                                      segment_names=segments, label_dtype=label_dtype)
        train_idx, recent_idx = data.recent_split(len(ds), gates_cfg.validation.holdout_fraction)
    except InputError as exc:
        return _wait_for_data(store, run_id, started, str(exc))
    train_ds, recent_ds = ds.take(train_idx), ds.take(recent_idx)
    champ_est = _load_version(store, data_dir, model, champion) if champion else None
    champ_thr = float((champ_info.lineage.params if champ_info else {}).get("threshold", 0.5))

    if action == "recalibrate_threshold":
        result = _recalibrate(champ_est, train_ds, mp.task, metric)
    else:
        weights = None
        if mp.retrain.weighting == "density_ratio":
            post = train_ds.ts_us >= int(change_at.timestamp() * 1_000_000)
            weights = density_ratio_weights(train_ds.x, post, columns)
        job = TrainJob(template=mp.retrain.template, task=mp.task, columns=columns,
                       x=train_ds.x, y=train_ds.y, weights=weights, metric=metric,
                       method=gates_cfg.validation.method,
                       holdout_fraction=gates_cfg.validation.holdout_fraction,
                       folds=gates_cfg.validation.folds, hpo_budget=mp.retrain.hpo_budget,
                       seed=_seed(model, action, window, change_at))
        result = sandbox.run(training.train, job, timeout_s=mp.retrain.timeout.total_seconds(),
                             memory_mb=mp.retrain.memory_mb, workdir=Path(data_dir) / "sandbox")
    if not result.ok:
        return _finish_failed(store, run_id, started, result.summary(),
                              f"training {result.status}: {result.message.splitlines()[0]}")
    out: training.TrainOutput = result.value
    try:
        figures = _gate_results(policy, mp, metric, out, train_ds, recent_ds, champ_est,
                                champ_thr)
    except Exception as exc:  # a candidate that cannot even be judged must not stay "running"
        return _finish_failed(store, run_id, started, {"status": "error", "message": str(exc),
                                                       "error_type": type(exc).__name__},
                              f"the candidate could not be validated: {exc}")
    ok = gates.passed(figures)
    lineage = Lineage(
        template=out.template, template_version=out.template_version,
        params={**out.params, "threshold": out.threshold, "features": list(columns.names),
                "numeric": list(columns.numeric), "categorical": list(columns.categorical)},
        metrics={k: float(v) for k, v in out.validation.items()} | {
            f"recent_{metric}": float(next(g.figures["candidate"] for g in figures
                                           if g.gate == "beat_champion"))},
        data_start=window.start.isoformat(), data_end=window.end.isoformat(),
        data_fingerprint=ds.fingerprint(), n_rows=len(ds), parent_version=champion,
        incident_id=incident_id)
    finished = ensure_utc(clock.now()) if now is None else started
    with store.session() as s:
        run = get_run(s, run_id)
        info = LocalRegistry(s, data_dir).register(model, out.estimator, lineage=lineage,
                                                   actor=actor, now=finished)
        LocalRegistry(s, data_dir).set_status(model, info.version,
                                              "validated" if ok else "rejected")
        record = {
            "status": "validated" if ok else "rejected", "version": info.version,
            "data_window": {"start": window.start.isoformat(), "end": window.end.isoformat(),
                            "n_rows": len(ds), "n_train": len(train_ds),
                            "n_recent": len(recent_ds), "excluded": ds.excluded,
                            "fingerprint": lineage.data_fingerprint},
            "configuration": {"template": out.template, "template_version":
                              out.template_version, "params": out.params,
                              "threshold": out.threshold, "metric": metric,
                              "weighting": mp.retrain.weighting,
                              "hpo_budget": mp.retrain.hpo_budget},
            "trials": out.trials, "metrics": lineage.metrics,
            "gates": gates.as_records(figures), "sandbox": result.summary(),
        }
        rollout_id, requests, decision = None, [], gates.summary(figures)
        incident = s.get(Incident, incident_id) if incident_id else None
        tier = Tier(incident.tier) if incident else Tier.T1
        if ok:
            try:
                ro = start_rollout(s, policy, model, info.version, actor=actor, now=finished,
                                   data_dir=data_dir, incident_id=incident_id, run_id=run_id)
                rollout_id = ro.id
                decision = f"v{info.version} passed every gate; rollout {ro.id} started in shadow"
            except ConflictError as exc:
                decision = f"v{info.version} passed every gate but was not rolled out: {exc}"
        else:
            requests.append(Request("page", incident_id or "", model, tier,
                                    f"retrained candidate v{info.version} rejected: {decision}"))
        record["decision"] = decision
        record["rollout_id"] = rollout_id
        run.status = "done" if ok else "rejected"
        run.finished_at = finished
        run.result = _json({**run.result, **record})
        for g in figures:
            audit.append(s, actor=actor, action=AuditAction.GATE, subject=f"model:{model}",
                         details={"version": info.version, **g.to_dict()}, at=finished)
        if incident is not None:
            incidents.record(s, incident, at=finished, actor=actor, type="retrain",
                             text=f"{action} run {run_id}: {decision}",
                             details={"run_id": run_id, "version": info.version,
                                      "passed": ok, "metric": metric,
                                      "gates": {g.gate: g.passed for g in figures}})
        audit.append(s, actor=actor, action=AuditAction.RETRAIN, subject=f"model:{model}",
                     details={"run_id": run_id, "version": info.version, "passed": ok,
                              "decision": decision}, at=finished)
    return RetrainOutcome(run_id, "rolled_out" if rollout_id else ("rejected" if not ok
                                                                    else "validated"),
                          decision, info.version, rollout_id, gates.as_records(figures), requests)


def _load_version(store: Store, data_dir: Path, model: str, version: int) -> Any:
    with store.session(read_only=True) as s:
        return LocalRegistry(s, data_dir).load(model, version)


def _recalibrate(champion: Any, train_ds: data.Dataset, task: Task,
                 metric: str) -> sandbox.SandboxResult:
    """The champion's artifact with a threshold chosen on the training part of the window
    (the recent part still judges it)."""
    if champion is None:
        return sandbox.SandboxResult("error", message="no champion to recalibrate")
    scores = metrics.outputs(champion, train_ds.x, task)
    name = metric if metric in metrics.THRESHOLDED else "f1"
    threshold = metrics.best_threshold(train_ds.y, scores, name)
    value = metrics.metric(name, train_ds.y, scores, task, threshold)
    out = training.TrainOutput(champion, "recalibrated", "1", {"recalibrated": True},
                               threshold, {name: value, "n_validation": float(len(train_ds))})
    return sandbox.SandboxResult("ok", out)


def _seed(model: str, action: str, window: Window, change_at: datetime) -> int:
    """The search's seed follows what is trained on, not the run's random id: the same data
    gives the same model (a replay reproduces it, and tests do not depend on an id's luck)."""
    key = f"{model}|{action}|{window.start.isoformat()}|{window.end.isoformat()}|{change_at}"
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 2**31


# Ticks a retrain waits for enough clean labelled data (labels lag; a quarantine may cover the
# first hours after a change) before it fails and a person is paged.
DATA_WAITS = 6


def _wait_for_data(store: Store, run_id: str, now: datetime, message: str) -> RetrainOutcome:
    """Too little clean labelled data yet: queue the run again (the next try reads the data up
    to its own time) while its incident is active and it has waited fewer than DATA_WAITS
    ticks; then it fails and pages."""
    with store.session() as s:
        run = get_run(s, run_id)
        waits = int((run.result or {}).get("data_waits", 0)) + 1
        incident = s.get(Incident, run.incident_id) if run.incident_id else None
        if waits <= DATA_WAITS and incident is not None \
                and IncidentState(incident.state) in ACTIVE:
            run.status = "queued"
            run.result = _json({**(run.result or {}), "data_waits": waits, "waiting": message})
            return RetrainOutcome(run_id, "waiting", f"not enough clean labelled data yet; "
                                  f"tries again at the next tick ({waits} of {DATA_WAITS})")
    return _finish_failed(store, run_id, now, {"status": "error", "message": message},
                          "not enough clean labelled data")


def _finish_failed(store: Store, run_id: str, now: datetime, sandbox_summary: dict[str, Any],
                   text: str) -> RetrainOutcome:
    """Production untouched; the run says why, the incident's timeline shows it, and a page
    request escalates it to a person."""
    with store.session() as s:
        run = get_run(s, run_id)
        run.status = "failed"
        run.finished_at = ensure_utc(now)
        run.result = _json({**run.result, "status": "failed", "sandbox": sandbox_summary,
                            "decision": text})
        incident = s.get(Incident, run.incident_id) if run.incident_id else None
        tier = Tier(incident.tier) if incident else Tier.T1
        if incident is not None:
            incidents.record(s, incident, at=now, actor=ACTOR, type="retrain",
                             text=f"{run.action} run {run_id} failed; production untouched: "
                             f"{text}", details={"run_id": run_id, **sandbox_summary})
            incidents.record(s, incident, at=now, actor=ACTOR, type="page_requested",
                             text=f"escalating: {text}", details={"run_id": run_id})
        audit.append(s, actor=ACTOR, action=AuditAction.RETRAIN, subject=f"model:{run.model}",
                     details={"run_id": run_id, "failed": sandbox_summary}, at=now)
        return RetrainOutcome(run_id, "failed", text, requests=[
            Request("page", run.incident_id or "", run.model, tier, text, run_id)])


def _gate_results(policy: Policy, mp: Any, metric: str, out: training.TrainOutput,
                  train_ds: data.Dataset, recent: data.Dataset, champion: Any,
                  champion_threshold: float) -> list[gates.GateResult]:
    cfg = policy.mitigation.gates
    task = mp.task
    cand = metrics.outputs(out.estimator, recent.x, task)
    champ = metrics.outputs(champion, recent.x, task) if champion is not None else None
    kpi = next((k for k in mp.kpis if k.metric == metric), None)
    results = [gates.validation(metric, out.validation.get(metric, float("nan")),
                                method=cfg.validation.method,
                                kpi_min=kpi.min if kpi else None,
                                kpi_max=kpi.max if kpi else None)]
    cand_value = metrics.metric(metric, recent.y, cand, task, out.threshold)
    champ_value = (metrics.metric(metric, recent.y, champ, task, champion_threshold)
                   if champ is not None else None)
    bc = gates.beat_champion(metric, cand_value, champ_value, margin=cfg.beat_champion.margin,
                             n=len(recent))
    if not cfg.beat_champion.enabled:
        bc = gates.GateResult(bc.gate, True, bc.figures, "disabled", skipped=True)
    results.append(bc)
    if cfg.calibration.enabled:
        results.append(gates.calibration(recent.y, cand, task, max_ece=cfg.calibration.max_ece))
    if cfg.fairness.attribute:
        results.append(gates.fairness(
            recent.y, metrics.decisions(cand, task, out.threshold),
            recent.segments.get(cfg.fairness.attribute), attribute=cfg.fairness.attribute,
            metric=cfg.fairness.metric, max_gap=cfg.fairness.max_gap))
    budget = cfg.latency.max_p99_ms or next(
        (k.max for k in mp.kpis if k.metric == "latency_p99_ms" and k.max), None)
    results.append(gates.latency(_per_row_ms(out.estimator, recent.x), max_p99_ms=budget))
    if cfg.prediction_sanity.enabled:
        results.append(gates.prediction_sanity(
            cand, champ, task, threshold=out.threshold, champion_threshold=champion_threshold,
            max_shift=cfg.prediction_sanity.max_prediction_shift))
    if cfg.ood.enabled:
        results.append(gates.ood(train_ds.x, recent.x, len(train_ds.columns.numeric),
                                 max_share=cfg.ood.max_ood_share))
    return results


def _per_row_ms(estimator: Any, x: np.ndarray, n: int = 50) -> list[float]:
    """Single-row prediction times, as a request-serving process sees them."""
    rows = x[: min(n, len(x))]
    times = []
    predict = getattr(estimator, "predict_proba", None) or estimator.predict
    predict(rows[:1])  # warm-up (lazy imports, caches)
    for i in range(len(rows)):
        t0 = time.perf_counter()
        predict(rows[i: i + 1])
        times.append((time.perf_counter() - t0) * 1000)
    return times


# ================================================================================================
# Rollouts: shadow, canary steps, verdicts, sign-off, promotion or rollback
# ================================================================================================


def active_rollout(session: Session, model: str) -> RolloutRow | None:
    return session.scalars(select(RolloutRow).where(
        RolloutRow.model == model, RolloutRow.state.in_(rollout.ACTIVE_STATES))
        .order_by(RolloutRow.started_at.desc())).first()


def get_rollout(session: Session, rollout_id: str) -> RolloutRow:
    row = session.get(RolloutRow, rollout_id)
    if row is None:
        raise NotFoundError(f"no rollout {rollout_id!r}")
    return row


def list_rollouts(session: Session, model: str | None = None, limit: int = 100
                  ) -> list[RolloutRow]:
    q = select(RolloutRow).order_by(RolloutRow.started_at.desc()).limit(limit)
    if model:
        q = q.where(RolloutRow.model == model)
    return list(session.scalars(q))


def _timeline(session: Session, incident_id: str | None, *, at: datetime, type: str, text: str,
              details: dict[str, Any]) -> None:
    if incident_id and (inc := session.get(Incident, incident_id)) is not None:
        incidents.record(session, inc, at=at, actor=ACTOR, type=type, text=text,
                         details=_json(details))


def start_rollout(session: Session, policy: Policy, model: str, version: int, *, actor: str,
                  now: datetime, data_dir: Path, incident_id: str | None = None,
                  run_id: str | None = None) -> RolloutRow:
    """Put `version` in shadow behind the champion; `advance` takes it through the steps."""
    if (busy := active_rollout(session, model)) is not None:
        raise ConflictError(f"rollout {busy.id} of {model} (v{busy.candidate}) is still "
                            f"{busy.state}; roll it back or finish it first")
    mp = policy.model(model)
    so = policy.mitigation.sign_off
    needs = rollout.needs_sign_off(mp.criticality.value, mp.regulatory,
                                   criticalities=[c.value for c in so.criticality],
                                   regulatory_needs=so.regulatory)
    state = routing_state(session, model)
    now = ensure_utc(now)
    row = RolloutRow(id=new_id("rol"), model=model, run_id=run_id, candidate=version,
                     baseline=state.champion, incident_id=incident_id, state="shadow",
                     step=rollout.SHADOW, step_started_at=now, started_by=actor,
                     started_at=now, needs_sign_off=needs, verdicts=[])
    session.add(row)
    session.flush()
    if state.champion is None:  # nothing serves yet: nothing to compare with, serve it
        set_champion(session, model, version, actor=actor, now=now, data_dir=data_dir,
                     reason=f"first version (rollout {row.id})")
        row.state, row.finished_at = "promoted", now
    else:
        set_canary(session, model, version, 0.0, actor=actor, now=now, data_dir=data_dir,
                   shadow=True)
    _timeline(session, incident_id, at=now, type="rollout",
              text=f"rollout {row.id}: v{version} in {row.state}"
              + (" (sign-off required before promotion)" if needs else ""),
              details={"rollout_id": row.id, "version": version, "state": row.state})
    return row


def roll_back_rollout(session: Session, policy: Policy, rollout_id: str, *, actor: str,
                      now: datetime, reason: str) -> RolloutRow:
    row = get_rollout(session, rollout_id)
    if row.state not in rollout.ACTIVE_STATES:
        raise ConflictError(f"rollout {rollout_id} is {row.state}; nothing to roll back")
    rollback(session, row.model, actor=actor, now=now, reason=reason)
    row.state, row.finished_at = "rolled_back", ensure_utc(now)
    _timeline(session, row.incident_id, at=now, type="rollout",
              text=f"rollout {row.id} rolled back: {reason}",
              details={"rollout_id": row.id, "version": row.candidate, "state": row.state})
    return row


def sign_off(session: Session, policy: Policy, rollout_id: str, *, approver: str,
             now: datetime) -> RolloutRow:
    """A person approves promotion. Only the policy's sign-off roles (default: the accountable
    role of the incident's tier) may; with the two-person rule, not whoever started it."""
    row = get_rollout(session, rollout_id)
    if row.state not in rollout.ACTIVE_STATES:
        raise ConflictError(f"rollout {rollout_id} is {row.state}; nothing to sign off")
    allowed = list(policy.mitigation.sign_off.roles)
    if not allowed:
        tier = Tier.T1
        if row.incident_id and (inc := session.get(Incident, row.incident_id)) is not None:
            tier = Tier(inc.max_tier)
        raci = policy.raci.get(tier)
        allowed = [raci.accountable] if raci and raci.accountable else []
    held = roles_held(policy, approver, row.model)
    if not held & set(allowed):
        raise PermissionDenied(f"{approver} may not sign off {row.model}; it needs one of the "
                               f"roles: {', '.join(sorted(allowed)) or '(none configured)'}")
    if policy.mitigation.two_person_rule and approver == row.started_by:
        raise PermissionDenied(f"{approver} started rollout {row.id}; under the two-person rule "
                               "someone else must sign it off")
    if row.signed_off_by:
        raise ConflictError(f"rollout {row.id} was already signed off by {row.signed_off_by}")
    now = ensure_utc(now)
    row.signed_off_by, row.signed_off_at = approver, now
    audit.append(session, actor=approver, action=AuditAction.SIGN_OFF, subject=f"model:{row.model}",
                 details={"rollout": row.id, "version": row.candidate,
                          "roles": sorted(held & set(allowed))}, at=now)
    _timeline(session, row.incident_id, at=now, type="sign_off",
              text=f"{approver} signed off v{row.candidate} (rollout {row.id})",
              details={"rollout_id": row.id, "approver": approver})
    return row


def _version_threshold(session: Session, data_dir: Path, model: str, version: int) -> float:
    info = LocalRegistry(session, data_dir).get(model, version)
    return float(info.lineage.params.get("threshold", 0.5))


def _live_figures(session: Session, policy: Policy, model: str, versions: dict[str, int],
                  since: datetime, until: datetime, data_dir: Path
                  ) -> dict[str, rollout.SideFigures]:
    """Per side (name -> version): what it did in [since, until) from the logged events."""
    mp = policy.model(model)
    metric = primary_metric(policy, model)
    table = read_events(session, EventLog(data_dir), model, since, until, with_labels=True)
    out = {}
    have = table.num_rows > 0 and "model_version" in table.column_names
    score_col = next((c for c in ("score", "probability", "prediction")
                      if have and c in table.column_names), None)
    for side, version in versions.items():
        if not have or score_col is None:
            out[side] = rollout.SideFigures(0, 0, 0, None, None)
            continue
        sub = table.filter(pc.equal(table.column("model_version"), str(version)))
        scores = sub.column(score_col)
        errors = int(scores.null_count)
        ok = sub.filter(pc.is_valid(scores))
        labels = (np.asarray(ok.column("label").to_numpy(zero_copy_only=False), dtype=float)
                  if "label" in ok.column_names else None)
        out[side] = rollout.side_figures(
            mp.task, metric, _version_threshold(session, data_dir, model, version),
            np.asarray(ok.column(score_col).to_numpy(zero_copy_only=False), dtype=float),
            labels, errors)
    return out


def _baseline(row: RolloutRow) -> tuple[float, str] | None:
    """The champion's last judged figure and its basis (realised or estimated): at 100% the
    champion serves nothing, so the canary is held against what it did before."""
    for v in reversed(row.verdicts or []):
        if v.get("champion") is not None and v.get("basis") in ("realised", "estimated"):
            return float(v["champion"]), str(v["basis"])
    return None


def _verdict(session: Session, policy: Policy, row: RolloutRow, now: datetime,
             data_dir: Path) -> rollout.Verdict:
    cfg = policy.mitigation.rollout
    sides = _live_figures(session, policy, row.model,
                          {"canary": row.candidate, "champion": row.baseline or -1},
                          row.step_started_at, now, data_dir)
    return rollout.judge(sides["canary"], sides["champion"],
                         metric=primary_metric(policy, row.model),
                         max_kpi_drop=cfg.max_kpi_drop, max_error_rate=cfg.max_error_rate,
                         baseline=_baseline(row))


@dataclass(frozen=True, slots=True)
class RolloutChange:
    rollout_id: str
    model: str
    action: str  # hold | advance | rollback | await_sign_off | promote
    state: str
    share: float
    reason: str
    incident_id: str | None = None


def advance_rollouts(session: Session, policy: Policy, now: datetime,
                     data_dir: Path) -> list[RolloutChange]:
    """One tick of every active rollout: judge the canary on live events, then hold, advance a
    step, roll back, wait for sign-off or promote."""
    now = ensure_utc(now)
    cfg = policy.mitigation.rollout
    changes = []
    rows = session.scalars(select(RolloutRow).where(
        RolloutRow.state.in_(rollout.ACTIVE_STATES)).order_by(RolloutRow.started_at))
    for row in list(rows):
        if row.model not in policy.model_names():
            continue
        verdict = _verdict(session, policy, row, now, data_dir)
        step = rollout.next_step(state=row.state, step=row.step,
                                 step_started_at=row.step_started_at, now=now, steps=cfg.steps,
                                 dwell=cfg.dwell, verdict=verdict,
                                 needs_sign_off=row.needs_sign_off,
                                 signed_off=row.signed_off_by is not None)
        if row.state == "shadow" and step.action == "hold" and verdict.decision == \
                "inconclusive" and now - row.step_started_at >= cfg.dwell:
            # shadow answers are optional evidence: without any, the first canary step judges
            step = rollout.Step("advance", "canary", 0, rollout.share_of(cfg.steps, 0),
                                "shadow dwell over (no shadow events to judge)")
        if step.action == "promote" and (by := frozen_by(session, row.model)) is not None:
            step = rollout.Step("hold", row.state, row.step, step.share,
                                f"promotion frozen by incident {by}")
        if step.action != "hold" or verdict.decision != "inconclusive":
            row.verdicts = [*(row.verdicts or []), _json({
                "at": now.isoformat(), "state": row.state, "step": row.step,
                **{k: v for k, v in verdict.to_dict().items() if k != "figures"},
                "action": step.action})]
        changes.append(_apply(session, policy, row, step, now, data_dir))
    return changes


def _apply(session: Session, policy: Policy, row: RolloutRow, step: rollout.Step, now: datetime,
           data_dir: Path) -> RolloutChange:
    if step.action == "advance":
        set_canary(session, row.model, row.candidate, step.share, actor=ACTOR, now=now,
                   data_dir=data_dir)
        row.state, row.step, row.step_started_at = step.state, step.step, now
    elif step.action == "rollback":
        rollback(session, row.model, actor=ACTOR, now=now, reason=step.reason)
        LocalRegistry(session, data_dir).set_status(row.model, row.candidate, "rejected")
        row.state, row.finished_at = "rolled_back", now
    elif step.action == "await_sign_off":
        row.state = step.state
    elif step.action == "promote":
        set_champion(session, row.model, row.candidate, actor=row.signed_off_by or ACTOR,
                     now=now, data_dir=data_dir,
                     reason=f"rollout {row.id}: {step.reason}")
        row.state, row.finished_at = "promoted", now
    if step.action != "hold":
        _timeline(session, row.incident_id, at=now, type="rollout",
                  text=f"rollout {row.id} v{row.candidate}: {step.action} — {step.reason}",
                  details={"rollout_id": row.id, "state": row.state, "share": step.share})
        if step.action in ("advance", "await_sign_off"):
            audit.append(session, actor=ACTOR, action=AuditAction.ROLLOUT,
                         subject=f"model:{row.model}",
                         details={"rollout": row.id, "action": step.action,
                                  "share": step.share, "reason": step.reason}, at=now)
    return RolloutChange(row.id, row.model, step.action, row.state, step.share, step.reason,
                         row.incident_id)


def advance(session: Session, policy: Policy, now: datetime, data_dir: Path
            ) -> list[RolloutChange]:
    """The engine's per-tick call (rollouts; retraining runs come from on_incident_changes)."""
    return advance_rollouts(session, policy, now, data_dir)


def canary_verdict(session: Session, policy: Policy, model: str, now: datetime, data_dir: Path,
                   *, canary: int | None = None, baseline: int | None = None,
                   since: datetime | None = None) -> dict[str, Any]:
    """Is the canary healthy? For Argo Rollouts' web metric provider and Flagger's webhooks.

    Without `canary`, judges the model's active watchkeeper rollout over its current step.
    With `canary` (and optionally `baseline`, default the champion) it judges versions another
    tool is rolling out, on events since `since` (default: the last dwell period)."""
    policy.model(model)
    now = ensure_utc(now)
    cfg = policy.mitigation.rollout
    row = active_rollout(session, model) if canary is None else None
    if canary is None and row is None:
        raise NotFoundError(f"{model} has no rollout in progress; pass canary=<version> to "
                            "judge a version another tool is rolling out")
    if row is not None:
        verdict, cand, base = _verdict(session, policy, row, now, data_dir), row.candidate, \
            row.baseline
    else:
        base = baseline if baseline is not None else routing_state(session, model).champion
        start = ensure_utc(since) if since else now - cfg.dwell
        sides = _live_figures(session, policy, model, {"canary": canary or -1,
                                                       "champion": base or -1},
                              start, now, data_dir)
        verdict = rollout.judge(sides["canary"], sides["champion"],
                                metric=primary_metric(policy, model),
                                max_kpi_drop=cfg.max_kpi_drop, max_error_rate=cfg.max_error_rate)
        cand = canary
    return _json({
        "model": model, "canary": cand, "baseline": base,
        "rollout_id": row.id if row else None, "state": row.state if row else None,
        "decision": verdict.decision, "healthy": verdict.decision != "regression",
        "healthy_int": 0 if verdict.decision == "regression" else 1,
        "conclusive": verdict.decision != "inconclusive",
        "metric": verdict.metric, "basis": verdict.basis, "canary_value": verdict.canary,
        "champion_value": verdict.champion, "canary_error_rate": verdict.canary_error_rate,
        "reason": verdict.reason, "at": now.isoformat(),
    })


# ================================================================================================
# Publishing to another registry (e.g. MLflow) for teams that serve from it
# ================================================================================================


def publish(session: Session, model: str, data_dir: Path, target: Any, *, actor: str,
            now: datetime) -> dict[str, Any]:
    """Mirror the model's versions and aliases into `target` (a `ModelRegistry`, such as
    `MlflowRegistry`): versions it lacks are registered in order with their lineage, and its
    aliases are set to watchkeeper's. Version numbers must line up (the target mirrors
    watchkeeper from the start); a target that numbers differently is refused, not guessed."""
    local = LocalRegistry(session, data_dir)
    theirs = {v.version: v for v in target.versions(model)}
    added = []
    for v in local.versions(model):
        if v.version in theirs:
            if theirs[v.version].lineage.data_fingerprint != v.lineage.data_fingerprint:
                raise ConflictError(f"{model} v{v.version} in the target registry is another "
                                    "model (its training-data fingerprint differs)")
            continue
        info = target.register(model, local.load(model, v.version), lineage=v.lineage,
                               actor=v.created_by, now=v.created_at)
        if info.version != v.version:
            raise ConflictError(f"the target registry numbered {model} v{v.version} as "
                                f"v{info.version}; it must mirror watchkeeper from the start")
        target.set_status(model, v.version, v.status)
        added.append(v.version)
    aliases = {}
    for alias in ("champion", "challenger", "canary", "fallback"):
        version = local.alias(model, alias)
        if version is not None:
            target.set_alias(model, alias, version, actor=actor, now=now)
            aliases[alias] = version
    audit.append(session, actor=actor, action=AuditAction.ACTION_EXECUTED,
                 subject=f"model:{model}", details={"published": added, "aliases": aliases},
                 at=now)
    return {"added": added, "aliases": aliases}
