"""The whole loop on a real store: ingest windows of traffic, tick, and see signals, scores,
one incident for a drift, queued notifications, idempotent re-ticks, and auto-resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import watchkeeper.policy as policy_pkg
from watchkeeper.core.clock import ManualClock
from watchkeeper.engine.tick import Engine
from watchkeeper.escalation.outbox import outbox_counts
from watchkeeper.incidents import service as incidents
from watchkeeper.policy import load_policy
from watchkeeper.sim.credit import CreditShift, generate_credit
from watchkeeper.store import Store

STARTER = Path(policy_pkg.__file__).with_name("starter.yaml")
T0 = datetime(2026, 11, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
N = 1500  # events per hourly window


def _policy(tmp_path: Path):  # type: ignore[no-untyped-def]
    ref = generate_credit(n=5000, seed=1)
    (tmp_path / "data").mkdir()
    pq.write_table(pa.table(ref), tmp_path / "data" / "credit_reference.parquet")
    text = STARTER.read_text().replace("seasonality: {period: 7d}", "")
    (tmp_path / "watchkeeper.yaml").write_text(text)
    return load_policy(tmp_path / "watchkeeper.yaml")


def _window(hour: int, shift: CreditShift | None = None) -> pa.Table:
    cols = generate_credit(n=N, seed=100 + hour, shift=shift)
    start = T0 + hour * HOUR
    cols = {k: v for k, v in cols.items() if k not in ("label", "true_probability")}
    cols["event_id"] = [f"h{hour}-{i}" for i in range(N)]
    cols["timestamp"] = [start + timedelta(seconds=2 * i) for i in range(N)]
    cols["model_version"] = ["1"] * N
    cols["latency_ms"] = [20.0] * N
    return pa.table(cols)


@pytest.mark.slow
def test_a_drift_opens_one_incident_notifies_and_resolves(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    store = Store.open(f"sqlite:///{tmp_path}/wk.db")
    clock = ManualClock(T0)
    engine = Engine(store, policy, tmp_path / "wkdata", clock=clock)
    shifted = CreditShift(income_factor=1.6, debt_ratio_shift=0.15)
    plan = [None] * 4 + [shifted] * 4 + [None] * 5
    outcomes = []
    for hour, shift in enumerate(plan):
        engine.ingest.ingest_events("credit-risk", _window(hour, shift))
        clock.set(T0 + (hour + 1) * HOUR + timedelta(minutes=10))
        outcomes += engine.tick().windows
    tiers = [o.score.tier for o in outcomes]
    assert len(outcomes) == len(plan)
    assert max(tiers[:4]) == 0, tiers
    assert min(tiers[5:8]) >= 1, tiers
    with store.session() as s:
        rows = incidents.list_incidents(s, model="credit-risk")
        assert len(rows) == 1, [r.key for r in rows]
        assert rows[0].family == "drift" and rows[0].state == "resolved"
        counts = outbox_counts(s)
        assert sum(counts.values()) > 0
    # Ticking again changes nothing: the cursor moved with the incident changes.
    assert engine.tick().windows == []
    store.close()
