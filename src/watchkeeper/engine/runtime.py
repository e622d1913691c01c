"""Which periodic jobs a process runs, by role.

- scheduler: the tick (windows -> signals -> scores -> incidents -> escalation queue), the
  escalation clock (deadlines, reminders) and housekeeping (the policy's retention, profile
  compaction); leader-only, so two schedulers never double-tick.
- worker: outbox delivery (rows claimed with SKIP LOCKED on PostgreSQL, so workers share it)
  and queued retraining runs (a run another worker started is not started again).
- all: both, in one process (the laptop case, SQLite).
- api: no jobs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from watchkeeper.engine.scheduler import Job
from watchkeeper.engine.tick import Engine
from watchkeeper.escalation.outbox import RetryPolicy, deliver_due

ServeRole = Literal["all", "api", "scheduler", "worker"]
ROLES: tuple[ServeRole, ...] = ("all", "api", "scheduler", "worker")
# Retention is counted in days; every six hours keeps the data within a quarter day of it.
HOUSEKEEPING_S = 6 * 3600.0


def jobs_for(role: ServeRole, engine: Engine, *, tick_s: float = 10.0,
             deliver_s: float = 1.0, lease: timedelta | None = None) -> list[Job]:
    """`lease`: how long a claimed notification stays with its worker before another may take
    it over (the outbox's default when None)."""
    retry = RetryPolicy(lease=lease) if lease is not None else None

    def tick(_: datetime) -> None:
        engine.tick()

    def escalate(_: datetime) -> None:
        engine.escalate()

    def deliver(now: datetime) -> None:
        deliver_due(engine.store, now, retry=retry)

    def housekeep(_: datetime) -> None:
        engine.housekeep()

    scheduler = [Job("tick", tick_s, tick), Job("escalation", max(1.0, tick_s / 5), escalate),
                 Job("housekeeping", HOUSEKEEPING_S, housekeep)]
    def retrain(_: datetime) -> None:
        engine.run_queued_retrains()

    worker = [Job("outbox", deliver_s, deliver, leader_only=False)]
    if not engine.retrain_inline:
        worker.append(Job("retrain", 5.0, retrain, leader_only=False))
    table: dict[ServeRole, list[Job]] = {"all": scheduler + worker, "scheduler": scheduler,
                                         "worker": worker, "api": []}
    return table[role]


