"""A realistic store for the browser test: the real loop (ingest -> signals -> scoring ->
incidents -> escalation) run over hourly windows of simulated credit traffic with a drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import watchkeeper.policy as policy_pkg
from watchkeeper.core.clock import ManualClock
from watchkeeper.engine.tick import Engine
from watchkeeper.escalation import deliver_due
from watchkeeper.policy import Policy, load_policy
from watchkeeper.sim.credit import CreditShift, generate_credit
from watchkeeper.store import Store

STARTER = Path(policy_pkg.__file__).with_name("starter.yaml")
T0 = datetime(2026, 11, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
N = 1500


def policy_in(folder: Path) -> Policy:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(generate_credit(n=5000, seed=1)),
                   folder / "data" / "credit_reference.parquet")
    text = STARTER.read_text().replace("seasonality: {period: 7d}", "")
    (folder / "watchkeeper.yaml").write_text(text)
    return load_policy(folder / "watchkeeper.yaml")


def window(hour: int, shift: CreditShift | None) -> pa.Table:
    cols = generate_credit(n=N, seed=100 + hour, shift=shift)
    start = T0 + hour * HOUR
    cols = {k: v for k, v in cols.items() if k not in ("label", "true_probability")}
    cols["event_id"] = [f"h{hour}-{i}" for i in range(N)]
    cols["timestamp"] = [start + timedelta(seconds=2 * i) for i in range(N)]
    cols["model_version"] = ["1"] * N
    cols["latency_ms"] = [20.0 + (hour % 3)] * N
    return pa.table(cols)


def run_loop(store: Store, policy: Policy, data_dir: Path, clock: ManualClock,
             hours: int = 9) -> None:
    engine = Engine(store, policy, data_dir, clock=clock)
    shifted = CreditShift(income_factor=1.6, debt_ratio_shift=0.15)
    for hour in range(hours):
        engine.ingest.ingest_events("credit-risk", window(hour, shifted if hour >= 4 else None))
        clock.set(T0 + (hour + 1) * HOUR + timedelta(minutes=10))
        engine.tick()
        # The outbox worker: console delivers; the starter's slack, pager and mail channels
        # have no credentials here and dead-letter (the incident page shows both).
        deliver_due(store, clock.now())
