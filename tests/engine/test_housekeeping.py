"""Housekeeping applies every retention the policy states: raw events, rejected rows, window
profiles and sent notifications each go when their own period is over, audited, and nothing
that an active incident still needs goes with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select

import watchkeeper.policy as policy_pkg
from watchkeeper.audit import list_entries, verify
from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import IncidentState, Tier
from watchkeeper.engine.runtime import jobs_for
from watchkeeper.engine.tick import Engine
from watchkeeper.incidents import service as incidents
from watchkeeper.policy import load_policy
from watchkeeper.sim.credit import generate_credit
from watchkeeper.store import Store
from watchkeeper.store.tables.escalation import DeliveryAttempt, OutboxRow
from watchkeeper.store.tables.ingest import ProfilePart, QuarantinedRow

STARTER = Path(policy_pkg.__file__).with_name("starter.yaml")
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def _engine(store: Store, tmp_path: Path, clock: ManualClock) -> Engine:
    (tmp_path / "data").mkdir()
    pq.write_table(pa.table(generate_credit(n=2000, seed=1)),
                   tmp_path / "data" / "credit_reference.parquet")
    text = STARTER.read_text().replace(
        "retention: {events: 90d, profiles: 400d, quarantine: 30d, notifications: 180d}",
        "retention: {events: 30d, profiles: 60d, quarantine: 7d, notifications: 14d}")
    assert "events: 30d" in text
    (tmp_path / "watchkeeper.yaml").write_text(text)
    return Engine(store, load_policy(tmp_path / "watchkeeper.yaml"), tmp_path / "wk", clock=clock)


def _traffic(n: int, hour: datetime, bad: int = 0) -> pa.Table:
    cols = {k: v for k, v in generate_credit(n=n, seed=7).items()
            if k not in ("label", "true_probability")}
    cols["event_id"] = [f"{hour:%d%H}-{i}" for i in range(n)]
    cols["timestamp"] = [hour + timedelta(seconds=i) for i in range(n)]
    table = pa.table(cols)
    if bad:  # the first rows carry an income that is not a number
        income = pa.array(["lots"] * bad + [str(v) for v in cols["income"][bad:]])
        table = table.set_column(table.column_names.index("income"), "income", income)
    return table


def _notification(store: Store, incident_id: str, key: str, at: datetime) -> None:
    with store.session() as s:
        s.add(OutboxRow(id=key, idempotency_key=key, incident_id=incident_id, channel="ops",
                        channel_type="webhook", channel_config={}, audience="internal",
                        payload={}, status="delivered", attempts=1, max_attempts=5,
                        next_attempt_at=at, created_at=at, delivered_at=at))
        s.flush()
        s.add(DeliveryAttempt(outbox_id=key, incident_id=incident_id, attempt=1, at=at,
                              outcome="delivered", duration_ms=3.0))


def _count(store: Store, table: type) -> int:
    with store.session(read_only=True) as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_each_retention_applies_on_its_own_clock(store: Store, tmp_path: Path) -> None:
    clock = ManualClock(T0)
    engine = _engine(store, tmp_path, clock)
    result = engine.ingest.ingest_events("credit-risk", _traffic(300, T0 - timedelta(hours=2),
                                                                bad=5))
    assert (result.n_new, result.n_quarantined) == (295, 5)
    with store.session() as s:
        done = incidents.open_incident(s, model="credit-risk", tier=Tier.T2, title="old",
                                       actor="t", now=T0)
        active = incidents.open_incident(s, model="credit-risk", tier=Tier.T2, title="still on",
                                         actor="t", now=T0)
        incidents.transition(s, done.id, IncidentState.RESOLVED, actor="t", now=T0)
    _notification(store, done.id, "n-done", T0)
    _notification(store, active.id, "n-active", T0)
    parts = _count(store, ProfilePart)
    assert parts > 0 and _count(store, QuarantinedRow) == 5

    clock.set(T0 + 10 * DAY)  # past quarantine (7 d) only
    report = engine.housekeep()
    assert report.errors == []
    purge = report.purged[0]
    assert (purge.events, purge.quarantined_rows, purge.profile_parts) == (0, 5, 0)
    assert _count(store, QuarantinedRow) == 0
    assert list(engine.ingest.log.files("quarantine", "credit-risk")) == []
    assert engine.ingest.read_events("credit-risk").num_rows == 295
    assert report.notifications == 0

    clock.set(T0 + 20 * DAY)  # past notifications (14 d): the active incident keeps its own
    assert engine.housekeep().notifications == 1
    with store.session(read_only=True) as s:
        assert [r.id for r in s.scalars(select(OutboxRow))] == ["n-active"]
        assert [a.outbox_id for a in s.scalars(select(DeliveryAttempt))] == ["n-active"]

    clock.set(T0 + 40 * DAY)  # past raw events (30 d); profiles stay
    purge = engine.housekeep().purged[0]
    assert (purge.events, purge.profile_parts) == (295, 0)
    assert engine.ingest.read_events("credit-risk").num_rows == 0
    assert _count(store, ProfilePart) > 0

    clock.set(T0 + 70 * DAY)  # past profiles (60 d)
    left = _count(store, ProfilePart)  # compaction may have merged some on the way
    assert engine.housekeep().purged[0].profile_parts == left
    assert _count(store, ProfilePart) == 0

    clock.set(T0 + 71 * DAY)  # nothing left to do: no audit entry for nothing
    with store.session(read_only=True) as s:
        before = len(list_entries(s, limit=10_000))
    engine.housekeep()
    with store.session(read_only=True) as s:
        entries = list_entries(s, limit=10_000)
        assert len(entries) == before
        actions = [e.action for e in entries if e.actor == "housekeeping"]
        assert actions.count("ingest.retention_purge") == 3
        assert actions.count("notification.retention_purge") == 1
        assert verify(s).ok


def test_the_scheduler_runs_housekeeping_as_a_leader_job(store: Store, tmp_path: Path) -> None:
    engine = _engine(store, tmp_path, ManualClock(T0))
    jobs = {j.name: j for j in jobs_for("scheduler", engine)}
    assert jobs["housekeeping"].leader_only and jobs["housekeeping"].every_s == 6 * 3600
    assert "housekeeping" not in {j.name for j in jobs_for("worker", engine)}


def test_db_housekeep_does_it_now_from_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from watchkeeper.cli.app import app

    url = f"sqlite:///{tmp_path / 'wk.db'}"
    with Store.open(url) as store:
        then = datetime.now(UTC) - 10 * DAY  # past the 7-day quarantine retention
        engine = _engine(store, tmp_path, ManualClock(then))
        engine.ingest.ingest_events("credit-risk", _traffic(50, then - DAY, bad=2))
    runner = CliRunner(env={"WATCHKEEPER_DATA_DIR": str(tmp_path / "wk")})
    policy = str(tmp_path / "watchkeeper.yaml")
    r = runner.invoke(app, ["db", "housekeep", "--db", url, "--policy", policy])
    assert r.exit_code == 0, r.output
    assert "credit-risk: 1 files (0 events" in r.output and "2 rejected rows" in r.output
    r = runner.invoke(app, ["db", "housekeep", "--db", url, "--policy", str(tmp_path / "no.yaml")])
    assert r.exit_code == 2 and "no such file" in r.output
