"""Escalation under load: 1,000 models ticking at once, 5% in incident, every notification
through the durable outbox to a real loopback HTTP receiver, on SQLite and PostgreSQL.

    python benchmarks/escalation.py                  # both databases
    python benchmarks/escalation.py --db sqlite      # one

Per database it prints: routing of all models at one instant, one simulated hour of ticks
(escalations and reminders) queuing notifications, and delivery of all of them, side by side
with the bar (500 notifications/s) and with the floor: the same HTTP POSTs sent by the same
client and threads with no outbox at all. It then checks the result: every queued notification
arrived exactly once per idempotency key, healthy models notified nobody, and every incident's
first notification went to every channel of its tier.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import Tier
from watchkeeper.escalation.incident import IncidentView
from watchkeeper.escalation.outbox import deliver_due
from watchkeeper.escalation.routing import route
from watchkeeper.escalation.service import EscalationService
from watchkeeper.store import Store
from watchkeeper.store.tables.escalation import OutboxRow

BAR = 500.0  # notifications per second
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def policy(url: str) -> dict[str, Any]:
    people = {f"p{i}": {"email": f"p{i}@example.com"} for i in range(12)}
    return {
        "people": people,
        "roles": {
            "model_owner": ["p0", "p1"],
            "mlops_oncall": ["oncall:mlops"],
            "exec_sponsor": ["p9"],
            "data_lead": ["p10"],
        },
        "oncall": {
            "mlops": {
                "rotation": "daily",
                "handoff": "09:00",
                "timezone": "Europe/Berlin",
                "members": ["p2", "p3", "p4", "p5"],
                "deputies": ["p6"],
            }
        },
        "raci": {
            "T1": {
                "responsible": ["model_owner"],
                "accountable": ["model_owner"],
                "informed": ["data_lead"],
            },
            "T2": {"responsible": ["mlops_oncall"], "accountable": ["model_owner"]},
            "T3": {
                "responsible": ["mlops_oncall"],
                "accountable": ["exec_sponsor"],
                "informed": ["data_lead"],
            },
        },
        "escalation": {
            "T1": {"ack_within": "30m", "then": "T2", "remind_every": "10m"},
            "T2": {"ack_within": "15m", "then": "T3", "remind_every": "5m"},
            "T3": {"remind_every": "5m"},
        },
        "channels": {
            "hook": {"type": "webhook", "url_env": "BENCH_URL", "secret_env": "BENCH_SECRET"},
            "chat": {"type": "slack", "url_env": "BENCH_URL"},
            "teams": {"type": "teams", "url_env": "BENCH_URL"},
            "pager": {
                "type": "pagerduty",
                "routing_key_env": "BENCH_SECRET",
                "api_url": url + "/v2/enqueue",
            },
            "am": {"type": "alertmanager", "url": url},
        },
        "routes": {
            "T1": ["hook", "chat"],
            "T2": ["hook", "chat", "teams", "pager"],
            "T3": ["hook", "chat", "teams", "pager", "am"],
        },
        "messages": {"pii_fields": ["email"]},
    }


def raw_floor(url: str, n: int, workers: int) -> float:
    """POSTs of the same size with the same client and threads, no outbox: the ceiling."""
    body = {"text": "x" * 2500}
    client = httpx.Client(limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(
            pool.map(
                lambda i: client.post(
                    url + "/raw", json=body, headers={"Idempotency-Key": f"raw{i}"}
                ),
                range(n),
            )
        )
    client.close()
    return n / (time.perf_counter() - t0)


class Receiver:
    """The loopback receiver in its own process, so it does not share the sender's GIL."""

    def __init__(self) -> None:
        script = Path(__file__).resolve().parents[1] / "tests/escalation/receivers.py"
        self.proc = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    @property
    def accepted(self) -> dict[str, int]:
        return dict(httpx.get(self.url + "/_stats", timeout=30).json()["accepted"])

    def cpu_seconds(self) -> float:
        """User + system CPU the receiver process has used (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def down(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(
    db_url: str, label: str, models: int, share: float, workers: int, processes: int
) -> dict[str, Any]:
    receiver = Receiver()
    os.environ["BENCH_URL"] = receiver.url + "/hook"
    os.environ["BENCH_SECRET"] = "bench-secret-" + uuid.uuid4().hex[:8]
    store = Store.open(db_url)
    clock = ManualClock(START)
    svc = EscalationService(policy(receiver.url), clock)
    rng = random.Random(7)
    names = [f"model-{i:04d}" for i in range(models)]
    sick = set(rng.sample(names, int(models * share)))
    tiers = {m: (rng.choice([Tier.T1, Tier.T2, Tier.T3]) if m in sick else Tier.T0) for m in names}
    incidents = [
        IncidentView(
            id=f"inc-{m}",
            model=m,
            tier=tiers[m],
            opened_at=START,
            score=40.0 + 20 * int(tiers[m]),
            title=f"{m} drift",
            summary=f"{m}: income drifted",
            causes=("data drift on income",),
            confidence=0.8,
        )
        for m in names
        if m in sick
    ]

    # 1. Routing of every model at one instant (healthy ones route to nobody).
    t0 = time.perf_counter()
    routes = {m: route(svc.config, tiers[m], clock.now(), m) for m in names}
    route_s = time.perf_counter() - t0
    quiet = [m for m in names if m not in sick and (routes[m].channels or routes[m].assignments)]

    # 2. One simulated hour of ticks every 5 minutes: triggers, escalations, reminders.
    tick_s, ticks = 0.0, 0
    for _ in range(13):
        t0 = time.perf_counter()
        with store.session() as s:
            svc.tick(s, incidents)
        tick_s += time.perf_counter() - t0
        ticks += 1
        clock.advance(timedelta(minutes=5))
    with store.session() as s:
        queued = s.scalar(select(func.count()).select_from(OutboxRow)) or 0

    # 3. Deliver everything, with `processes` worker processes sharing the outbox (as
    #    `serve --role worker` does: SKIP LOCKED on PostgreSQL, the write lock on SQLite).
    receiver_cpu0 = receiver.cpu_seconds()
    store.close()  # no pooled connection may cross a fork
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        outcomes = pool.starmap(_deliver_all, [(db_url, clock.now(), workers)] * processes)
    deliver_s = time.perf_counter() - t0
    delivered = sum(n for n, _ in outcomes)
    deliver_cpu = sum(cpu for _, cpu in outcomes)
    receiver_cpu = receiver.cpu_seconds() - receiver_cpu0
    store = Store.open(db_url)
    floor = raw_floor(receiver.url, min(queued, 3000), workers)

    # 4. Check.
    with store.session() as s:
        keys = list(s.scalars(select(OutboxRow.idempotency_key)))
        status = Counter(s.scalars(select(OutboxRow.status)))
    accepted = {k: n for k, n in receiver.accepted.items() if not k.startswith("raw")}
    exactly_once = accepted == dict.fromkeys(keys, 1)
    first_ok = all(
        {f"{i.id}:{i.tier}:trigger:{t.channel}" for t in svc.config.routes[i.tier]} <= set(keys)
        for i in incidents
    )
    store.close()
    receiver.down()
    return {
        "db": label,
        "models": models,
        "incidents": len(incidents),
        "route_s": route_s,
        "ticks": ticks,
        "tick_s": tick_s,
        "queued": queued,
        "delivered": delivered,
        "deliver_s": deliver_s,
        "cpu_ms": deliver_cpu / max(delivered, 1) * 1000,
        "receiver_ms": receiver_cpu / max(delivered, 1) * 1000,
        "rate": delivered / deliver_s if deliver_s else 0.0,
        "floor": floor,
        "exactly_once": exactly_once,
        "quiet_ok": not quiet,
        "first_ok": first_ok,
        "status": dict(status),
    }


def _deliver_all(db_url: str, now: datetime, workers: int) -> tuple[int, float]:
    """One worker process: deliver until nothing is due; (delivered, CPU seconds)."""
    cpu0 = time.process_time()
    store = Store.open(db_url, migrate=False)
    http = httpx.Client(limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
    delivered = 0
    try:
        while True:
            stats = deliver_due(store, now, limit=500, workers=workers, http=http)
            delivered += stats.delivered
            if stats.claimed == 0:
                return delivered, time.process_time() - cpu0
    finally:
        http.close()
        store.close()


def _pg_database() -> tuple[str, str]:
    import psycopg

    server = os.environ.get(
        "WATCHKEEPER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    name = f"wk_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rsplit('/', 1)[0]}/{name}", name


def _drop_pg(name: str) -> None:
    import psycopg

    server = os.environ.get(
        "WATCHKEEPER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--incident-share", type=float, default=0.05)
    ap.add_argument("--workers", type=int, default=4, help="sending threads per process")
    ap.add_argument("--processes", type=int, default=1, help="delivery worker processes")
    args = ap.parse_args()
    results = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(
                run(
                    f"sqlite:///{tmp}/bench.db",
                    "SQLite",
                    args.models,
                    args.incident_share,
                    args.workers,
                    args.processes,
                )
            )
    if args.db in ("postgres", "both"):
        url, name = _pg_database()
        try:
            results.append(
                run(url, "PostgreSQL", args.models, args.incident_share, args.workers,
                    args.processes)
            )
        finally:
            _drop_pg(name)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"escalation load: {args.models} models, {args.incident_share:.0%} in incident, "
        f"{args.processes} delivery processes x {args.workers} sending threads, "
        "loopback HTTP receiver in its own process; "
        f"bar {BAR:.0f} notif/s; {os.cpu_count()} cores, load average {load}"
    )
    head = (
        f"{'db':11} {'incidents':>9} {'route all (ms)':>14} {'tick avg (ms)':>13} "
        f"{'queued':>7} {'delivered':>9} {'outbox notif/s':>14} {'no-outbox floor/s':>17} "
        f"{'bar':>6} {'CPU ms/notif':>12} {'receiver CPU ms':>15} "
        f"{'exactly once':>12} {'routing ok':>10}"
    )
    print(head)
    print("-" * len(head))
    ok = True
    for r in results:
        passed = r["rate"] >= BAR and r["exactly_once"] and r["quiet_ok"] and r["first_ok"]
        ok &= passed and r["delivered"] == r["queued"]
        print(
            f"{r['db']:11} {r['incidents']:>9} {r['route_s'] * 1000:>14.1f} "
            f"{r['tick_s'] / r['ticks'] * 1000:>13.1f} {r['queued']:>7} {r['delivered']:>9} "
            f"{r['rate']:>14.0f} {r['floor']:>17.0f} "
            f"{'met' if r['rate'] >= BAR else 'MISSED':>6} {r['cpu_ms']:>12.2f} "
            f"{r['receiver_ms']:>15.2f} "
            f"{'yes' if r['exactly_once'] else 'NO':>12} "
            f"{'yes' if r['quiet_ok'] and r['first_ok'] else 'NO':>10}"
        )
    print(
        "outbox status after delivery: " + "; ".join(f"{r['db']}: {r['status']}" for r in results)
    )
    print("RESULT: " + ("bar met" if ok else "bar NOT met"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
