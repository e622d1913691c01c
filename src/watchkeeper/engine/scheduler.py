"""Periodic jobs in a background thread, with one leader across processes on PostgreSQL.

The leader holds a session-level advisory lock on its own connection; when its process dies
the connection closes and another scheduler takes over on its next attempt. SQLite is one
machine, one process: the scheduler there is always the leader.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from watchkeeper.core.clock import SYSTEM_CLOCK, Clock
from watchkeeper.store import Store

log = logging.getLogger("watchkeeper.scheduler")
LEADER_LOCK_KEY = 0x5743_4B50_4C45_4144  # "WCKPLEAD"


@dataclass
class Job:
    name: str
    every_s: float
    run: Callable[[datetime], object]
    leader_only: bool = True  # workers run the others (e.g. outbox delivery)
    last_run: float = 0.0
    runs: int = 0
    failures: int = 0
    last_error: str = ""


@dataclass
class Scheduler:
    store: Store
    jobs: list[Job]
    clock: Clock = SYSTEM_CLOCK
    tick_s: float = 0.5
    leader: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock_conn: Connection | None = None

    def try_lead(self) -> bool:
        """Become the leader if nobody else is (always true on SQLite)."""
        if self.leader:
            return True
        if self.store.dialect != "postgresql":
            self.leader = True
            return True
        conn = self.store.engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                           {"k": LEADER_LOCK_KEY}).scalar()
        conn.commit()
        if got:
            self._lock_conn, self.leader = conn, True
            log.info("this scheduler is the leader")
        else:
            conn.close()
        return bool(got)

    def run_due(self) -> None:
        """Run every job whose interval has passed (the thread's body; callable in tests)."""
        lead = self.try_lead()
        for job in self.jobs:
            if job.leader_only and not lead:
                continue
            if time.monotonic() - job.last_run < job.every_s:
                continue
            job.last_run = time.monotonic()
            if job.runs == 0 and job.failures == 0:
                log.info("job %s: first run (leader=%s)", job.name, lead)
            try:
                job.run(self.clock.now())
                job.runs += 1
            except Exception as exc:  # a failing job must not stop the others
                job.failures += 1
                job.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("job %s failed", job.name)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(self.tick_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="watchkeeper-scheduler",
                                        daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Block until `stop()` is called (a process that only runs jobs)."""
        self._stop.wait()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._lock_conn is not None:
            self._lock_conn.close()
            self._lock_conn, self.leader = None, False
