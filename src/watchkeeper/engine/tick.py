"""The tick: every closed window goes through signals -> score -> incidents, then escalation
(and mitigation) react to the incidents. Nothing here computes; it sequences stage services.

Each window moves the model's engine cursor in the same transaction as its incident changes,
and every step before that is idempotent (signals of a judged window are read back, a scored
window returns its stored score), so a crash anywhere in a tick repeats work, never skips it
or does it twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.core.clock import SYSTEM_CLOCK, Clock, ensure_utc
from watchkeeper.core.enums import IncidentState, Tier
from watchkeeper.core.records import Score, Signal, WindowKey
from watchkeeper.escalation.incident import IncidentView
from watchkeeper.escalation.outbox import purge_sent
from watchkeeper.escalation.service import EscalationService
from watchkeeper.incidents import service as incidents
from watchkeeper.incidents.lifecycle import ACTIVE
from watchkeeper.ingest import IngestService, PurgeResult
from watchkeeper.mitigation import service as mitigation
from watchkeeper.policy import Policy
from watchkeeper.scoring.config import ScoringConfig
from watchkeeper.scoring.policy import config_from_policy, context_of, importance_of
from watchkeeper.scoring.service import ScoringService
from watchkeeper.signals.service import SignalService
from watchkeeper.store import Store
from watchkeeper.store.tables.incidents import Incident
from watchkeeper.store.tables.service import EngineCursor

log = logging.getLogger("watchkeeper.engine")
# Resolved incidents stay in escalation's view this long, so "resolved" notifications go out.
RECENTLY_RESOLVED = timedelta(days=1)
ACTOR = "housekeeping"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class WindowOutcome:
    window: WindowKey
    score: Score
    signals: int
    changes: list[incidents.Change]
    mitigations: list[mitigation.Outcome] = field(default_factory=list)


@dataclass
class TickReport:
    at: datetime
    windows: list[WindowOutcome] = field(default_factory=list)
    retrains: list[mitigation.RetrainOutcome] = field(default_factory=list)
    rollouts: list[mitigation.RolloutChange] = field(default_factory=list)
    notifications_queued: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Housekeeping:
    at: datetime
    purged: list[PurgeResult] = field(default_factory=list)
    parts_merged: int = 0
    notifications: int = 0
    errors: list[str] = field(default_factory=list)


class Engine:
    def __init__(
        self,
        store: Store,
        policy: Policy,
        data_dir: Path,
        *,
        clock: Clock = SYSTEM_CLOCK,
        scoring_config: ScoringConfig | None = None,
        retrain_inline: bool = True,
    ) -> None:
        self.store, self.policy, self.data_dir, self.clock = store, policy, Path(data_dir), clock
        self.ingest = IngestService(store, policy, data_dir, clock=clock)
        self.signals = SignalService(store, policy, self.ingest, clock=clock)
        # The policy's scoring section applies until a calibrated configuration is activated.
        self.scoring = ScoringService(store, clock=clock,
                                      default=scoring_config or config_from_policy(policy))
        self.escalation = EscalationService(policy, clock)
        # One process (the laptop, the demo) trains right after the tick; with --role worker
        # the retrains queued by a tick are taken by `run_queued_retrains` in a worker.
        self.retrain_inline = retrain_inline

    def use_policy(self, policy: Policy) -> None:
        """Put a newly applied policy in force from the next tick on."""
        self.policy = policy
        self.ingest = IngestService(self.store, policy, self.data_dir, clock=self.clock)
        self.signals = SignalService(self.store, policy, self.ingest, clock=self.clock)
        self.scoring.default = config_from_policy(policy)
        self.escalation = EscalationService(policy, self.clock)

    # -- the tick --------------------------------------------------------------------------------

    def tick(self) -> TickReport:
        report = TickReport(at=self.clock.now())
        for model in self.policy.model_names():
            try:
                report.windows += self.process_model(model)
            except Exception as exc:  # one broken model must not stop the fleet
                log.exception("tick failed for %s", model)
                report.errors.append(f"{model}: {type(exc).__name__}: {exc}")
        report.rollouts = self.advance_rollouts()
        if self.retrain_inline:
            report.retrains = self.run_queued_retrains()
        report.notifications_queued = self.escalate()
        return report

    def process_model(self, model: str) -> list[WindowOutcome]:
        cursor = self._cursor(model)
        out = []
        for w in self.ingest.list_windows(model):
            if not w.closed or w.end <= cursor:
                continue
            out.append(self.process_window(WindowKey(model, w.start, w.end), w.index))
        return out

    def process_window(self, window: WindowKey, index: int | None = None) -> WindowOutcome:
        signals = self._signals(window, index)
        mp = self.policy.model(window.model)
        score = self.scoring.score(window, signals, importance=importance_of(mp),
                                   context=context_of(mp))
        now = self.clock.now()
        with self.store.session() as s:
            changes = incidents.apply_score(
                s, score, now=now,
                resolve_after_healthy_windows=self.policy.incidents.resolve_after_healthy_windows,
                group_within=self.policy.incidents.group_within,
            )
            outcomes = mitigation.on_incident_changes(s, self.policy, changes, now,
                                                      self.data_dir)
            self._move_cursor(s, window.model, window.end, now)
        for c in changes:
            log.info("%s: incident %s %s (%s)", window.model, c.incident_id, c.what, c.tier)
        return WindowOutcome(window, score, len(signals), changes, outcomes)

    def _signals(self, window: WindowKey, index: int | None) -> list[Signal]:
        stored = [s for s in self.signals.stored(window.model, window.start,
                                                 window.start + timedelta(microseconds=1))
                  if s.window.end == window.end]
        if stored:
            return [s.signal for s in stored]
        return self.signals.run(window.model, window.start, window.end, index=index)

    # -- mitigation ------------------------------------------------------------------------------

    def advance_rollouts(self) -> list[mitigation.RolloutChange]:
        with self.store.session() as s:
            return mitigation.advance(s, self.policy, self.clock.now(), self.data_dir)

    def run_queued_retrains(self) -> list[mitigation.RetrainOutcome]:
        """Train every queued retraining run (each in its sandbox, outside any transaction;
        `run_retrain` refuses a run another worker already started)."""
        with self.store.session(read_only=True) as s:
            queued = [r.id for r in mitigation.list_runs(s, status="queued")]
        return [mitigation.run_retrain(self.store, self.policy, run_id, data_dir=self.data_dir,
                                       clock=self.clock) for run_id in queued]

    # -- housekeeping ----------------------------------------------------------------------------

    def housekeep(self) -> Housekeeping:
        """Apply the policy's retention (raw events, quarantine, profiles, sent notifications)
        and merge the profile parts of closed windows. Each model on its own: one that fails
        is reported and the others are still kept tidy."""
        done = Housekeeping(at=self.clock.now())
        for model in self.policy.model_names():
            try:
                done.purged.append(self.ingest.purge_expired(model, actor=ACTOR))
                done.parts_merged += self.ingest.compact_profiles(model)
            except Exception as exc:
                log.exception("housekeeping failed for %s", model)
                done.errors.append(f"{model}: {type(exc).__name__}: {exc}")
        with self.store.session() as s:
            keep = self.policy.retention.notifications
            done.notifications = purge_sent(s, before=done.at - keep, now=done.at, actor=ACTOR)
        return done

    # -- escalation ------------------------------------------------------------------------------

    def escalate(self) -> int:
        """Queue what is due for active and recently resolved incidents (idempotent)."""
        now = self.clock.now()
        with self.store.session() as s:
            rows = list(s.scalars(select(Incident).where(
                (Incident.state.in_([x.value for x in ACTIVE]))
                | (Incident.resolved_at >= now - RECENTLY_RESOLVED))))
            if not rows:
                return 0
            result = self.escalation.tick(s, [self.view(s, r) for r in rows], now)
            return result.queued

    @staticmethod
    def view(session: Session, row: Incident) -> IncidentView:
        """What escalation needs to know of an incident, from its row and latest window."""
        window = incidents.latest_event(session, row.id, "window")
        tier_change = incidents.latest_event(session, row.id, "tier")
        contributors: list[dict[str, Any]] = list(window.details.get("contributors", [])
                                                  if window else [])
        return IncidentView(
            id=row.id, model=row.model, tier=Tier(row.tier), opened_at=row.opened_at,
            state=row.state, tier_since=tier_change.at if tier_change else None,
            acknowledged_at=row.acknowledged_at,
            resolved_at=row.resolved_at if row.state in (IncidentState.RESOLVED.value,
                                                         IncidentState.POSTMORTEM_DONE.value)
            else None,
            score=window.details.get("score") if window else None, title=row.title,
            summary=window.text if window and window.text else row.title,
            causes=tuple(c.get("text") or c.get("kind", "") for c in contributors),
            labels=dict(row.labels),
        )

    # -- cursor ----------------------------------------------------------------------------------

    def _cursor(self, model: str) -> datetime:
        with self.store.session(read_only=True) as s:
            row = s.get(EngineCursor, model)
            return row.last_window_end if row else EPOCH

    @staticmethod
    def _move_cursor(session: Session, model: str, end: datetime, now: datetime) -> None:
        row = session.get(EngineCursor, model, with_for_update=True)
        if row is None:
            session.add(EngineCursor(model=model, last_window_end=ensure_utc(end),
                                     updated_at=ensure_utc(now)))
        else:
            row.last_window_end, row.updated_at = max(row.last_window_end, ensure_utc(end)), now
