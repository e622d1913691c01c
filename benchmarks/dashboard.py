"""Dashboard render times with a fleet of 100 models and 30 days of hourly windows.

    python benchmarks/dashboard.py               # SQLite (the `serve` default)
    python benchmarks/dashboard.py --db postgres # PostgreSQL at WATCHKEEPER_TEST_PG

Seeds 72,000 score rows (100 models x 720 hourly windows, with contributors like the scorer
writes), 432,000 signal rows (4 drifting features, a realised and an estimated performance
metric per window) and 300 incidents with timelines opened through the incidents service, then
renders each page in-process (the full ASGI app: auth, queries, templates) and prints cold and
warm times side by side with the bar (500 ms). Scores and signals are bulk-inserted rather
than scored one by one: the benchmark measures the pages, not the scorer.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

import watchkeeper.policy as policy_pkg
from watchkeeper.api.deps import AppState
from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import Tier
from watchkeeper.engine import access
from watchkeeper.incidents import service as incidents
from watchkeeper.policy import parse_policy
from watchkeeper.store import Store
from watchkeeper.store.tables.scoring import ScoreRow
from watchkeeper.store.tables.signals import SignalRow
from watchkeeper.web.app import create_server_app

MODELS, DAYS, BAR_MS = 100, 30, 500.0
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
FEATURES = ("income", "debt_ratio", "age", "region")
CACHED = Path(__file__).parent / ".data" / "dashboard-sqlite.db"  # seeding takes minutes


def seed(store: Store) -> None:
    rng = random.Random(7)
    hours = DAYS * 24
    start = NOW - timedelta(hours=hours)
    scores, signals = [], []
    for m in range(MODELS):
        model = f"model-{m:03d}"
        bad_from = rng.randrange(hours) if m % 7 == 0 else None
        for h in range(hours):
            ws = start + timedelta(hours=h)
            drift = 0.7 if bad_from is not None and bad_from <= h < bad_from + 12 else 0.05
            value = min(100.0, 100 * drift * rng.uniform(0.8, 1.2))
            tier = 3 if value >= 85 else 2 if value >= 60 else 1 if value >= 30 else 0
            contributors = [{"kind": "data_drift", "share": 1.0, "severity": drift,
                             "feature": "income", "method": "psi", "effect_size": drift,
                             "interval": None, "text": f"input 'income' shifted ({drift:.2f})"}]
            scores.append({"model": model, "window_start": ws, "window_end": ws + timedelta(
                hours=1), "value": value, "tier": tier, "raw_tier": tier,
                "config_version": "bench", "contributors": contributors,
                "summary": f"{model} scored {value:.0f}/100", "flags": {}, "scored_at": NOW})
            for kind, method, feature, stat in (
                *[("data_drift", "psi", f, drift * rng.uniform(0.5, 1.5)) for f in FEATURES],
                ("performance", "roc_auc", None, 0.8 - drift / 5),
                ("estimated_performance", "cbpe", None, 0.8 - drift / 6),
            ):
                signals.append({"model": model, "window_start": ws,
                                "window_end": ws + timedelta(hours=1), "window_n": 1000,
                                "window_labels": 200, "kind": kind, "method": method,
                                "feature": feature, "segment": None,
                                "severity": min(1.0, drift), "statistic": stat,
                                "p_value": None, "effect_size": stat, "threshold": 0.2,
                                "catastrophic": False, "evidence": "", "details": {},
                                "created_at": NOW})
    with store.session() as s:
        for chunk in range(0, len(scores), 10_000):
            s.execute(insert(ScoreRow), scores[chunk:chunk + 10_000])
        for chunk in range(0, len(signals), 20_000):
            s.execute(insert(SignalRow), signals[chunk:chunk + 20_000])
    with store.session() as s:
        for i in range(300):
            at = start + timedelta(hours=rng.randrange(hours))
            row = incidents.open_incident(
                s, model=f"model-{i % MODELS:03d}", tier=Tier(1 + i % 3),
                title=f"drift in income #{i}", actor="watchkeeper", now=at,
                change_point_at=at - timedelta(minutes=rng.randrange(5, 90)))
            incidents.comment(s, row.id, actor="alice", text="looking", now=at)
            if i % 2:
                incidents.transition(s, row.id, incidents.IncidentState.RESOLVED, actor="alice",
                                     now=at + timedelta(minutes=rng.randrange(10, 600)))


def prepare(store: Store, clock: ManualClock) -> tuple[str, str]:
    """An open incident to render, and a fresh admin token."""
    with store.session() as s:
        incident = incidents.list_incidents(s, states=[incidents.IncidentState.OPEN], limit=1)
        token, _ = access.create_token(s, name="bench", role="admin", models=["*"],
                                       created_by="bench", now=clock.now())
        return incident[0].id, token


def time_page(client: TestClient, path: str, token: str, runs: int = 5) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    for _ in range(runs + 1):
        began = time.perf_counter()
        r = client.get(path, headers=headers)
        times.append((time.perf_counter() - began) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return times[0], statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reseed", action="store_true",
                        help=f"seed SQLite again instead of reusing {CACHED}")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wk-dash-"))
    fresh = True
    if args.db == "sqlite":
        CACHED.parent.mkdir(parents=True, exist_ok=True)
        if args.reseed:
            CACHED.unlink(missing_ok=True)
        fresh = not CACHED.exists()
        url = f"sqlite:///{CACHED}"
    else:
        import uuid

        import psycopg

        server = os.environ.get("WATCHKEEPER_TEST_PG",
                                "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        name = f"wk_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{server.rsplit('/', 1)[0]}/{name}"
    store = Store.open(url)
    try:
        run(args.db, store, folder, fresh)
    finally:
        store.close()
        if args.db == "postgres":
            with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(db: str, store: Store, folder: Path, fresh: bool) -> None:
    clock = ManualClock(NOW)
    began = time.perf_counter()
    if fresh:
        seed(store)
    with store.session(read_only=True) as s:
        if s.scalar(select(func.count()).select_from(ScoreRow)) != MODELS * DAYS * 24:
            raise SystemExit(f"{CACHED} is not a complete seed; run with --reseed")
    incident_id, token = prepare(store, clock)
    print(f"{'seeded' if fresh else 'reused'} {MODELS} models x {DAYS * 24} hourly windows = "
          f"{MODELS * DAYS * 24:,} scores, {MODELS * DAYS * 24 * 6:,} signals, 300 incidents "
          f"on {db} ({time.perf_counter() - began:.1f} s)")
    starter = Path(policy_pkg.__file__).with_name("starter.yaml")
    policy = parse_policy(starter.read_text(), str(starter))
    state = AppState(store=store, data_dir=folder / "data", policy=policy, clock=clock)
    pages = [("fleet /", "/"), ("model /models/model-007 (7 d)", "/models/model-007"),
             ("model, 30 days", "/models/model-007?days=30"),
             ("incident /incidents/{id}", f"/incidents/{incident_id}"),
             ("audit /audit", "/audit"), ("/ui/changes (poll)", "/ui/changes"),
             ("/metrics (scrape)", "/metrics")]
    print(f"\n{'page':34} {'cold ms':>9} {'warm ms (median of 5)':>22} {'bar ms':>8}  verdict")
    with TestClient(create_server_app(state)) as client:
        for label, path in pages:
            cold, warm = time_page(client, path, token)
            verdict = "ok" if max(cold, warm) < BAR_MS else "OVER"
            print(f"{label:34} {cold:9.1f} {warm:22.1f} {BAR_MS:8.0f}  {verdict}")


if __name__ == "__main__":
    main()
