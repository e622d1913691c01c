"""Ingest speed: 1,000,000 events x 50 features from Parquet, with profiles and the event log,
into SQLite and PostgreSQL. Prints events/s and peak RSS of each run (each run in a child
process, so peaks do not mix). Target (issue 2): >= 100,000 events/s on SQLite, < 2 GB.

    python benchmarks/ingest.py [--rows 1000000] [--pg postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
N_NUMERIC, N_CATEGORICAL = 40, 10

POLICY = """\
version: 1
people: {{bench: {{email: bench@example.com}}}}
retention: {{events: 3650d}}  # the data is dated 2026-03-01
models:
  - name: bench
    task: binary_classification
    owner: bench
    reference: {reference}
    schema:
      features:
{features}
      prediction: probability
      label: binary
    window: {{every: 1h}}
"""


def dataset(rows: int) -> Path:
    """Generate once and cache: 40 numeric + 10 categorical features, 1 day of timestamps."""
    path = DATA / f"events_{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    writer = None
    step = 250_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        cols: dict[str, pa.Array] = {
            "event_id": pa.array([f"ev-{i:09d}" for i in range(start, start + n)]),
            "timestamp": pa.array(
                np.datetime64("2026-03-01T00:00:00", "us")
                + (np.arange(start, start + n) * 86_400_000_000 // rows).astype("timedelta64[us]"),
                pa.timestamp("us", tz="UTC"),
            ),
            "model_version": pa.array(["v1"] * n),
            "prediction": pa.array(rng.integers(0, 2, n)),
            "probability": pa.array(rng.random(n)),
            "latency_ms": pa.array(rng.exponential(20.0, n)),
        }
        for j in range(N_NUMERIC):
            cols[f"num_{j:02d}"] = pa.array(rng.normal(j, 1.0 + j, n))
        for j in range(N_CATEGORICAL):
            cats = np.array([f"c{k}" for k in range(5 + 5 * j)])
            cols[f"cat_{j:02d}"] = pa.array(cats[rng.integers(0, cats.size, n)])
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(path.with_suffix(".tmp"), table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    path.with_suffix(".tmp").rename(path)
    return path


def policy_file(folder: Path, data: Path) -> Path:
    feats = [f"        num_{j:02d}: {{type: numeric}}" for j in range(N_NUMERIC)]
    feats += [f"        cat_{j:02d}: {{type: categorical}}" for j in range(N_CATEGORICAL)]
    ref = folder / "reference.parquet"
    pq.write_table(pq.read_table(data).slice(0, 1000), ref)
    path = folder / "watchkeeper.yaml"
    path.write_text(POLICY.format(reference=ref.name, features="\n".join(feats)))
    return path


def run_child(db_url: str, data: Path, folder: Path) -> dict[str, float]:
    """Runs in a fresh process: ingest the file once, report time and own peak RSS."""
    from watchkeeper.ingest import IngestService
    from watchkeeper.policy import load_policy
    from watchkeeper.store import Store

    store = Store.open(db_url)
    service = IngestService(store, load_policy(policy_file(folder, data)), folder / "data")
    cpu0 = _cpu()
    started = time.perf_counter()
    result = service.ingest_file("bench", data)
    elapsed = time.perf_counter() - started
    cpu = _cpu() - cpu0
    windows = service.list_windows("bench")
    store.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": result.n_rows,
        "new": result.n_new,
        "seconds": elapsed,
        "cpu": cpu,
        "peak_mb": peak_kb / 1024,
        "windows": len(windows),
        "profiled": sum(w.n for w in windows),
    }


def _cpu() -> float:
    """CPU seconds of this process, all threads (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "WATCHKEEPER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, data, folder = args.child
        print(json.dumps(run_child(url, Path(data), Path(folder))))
        return
    data = dataset(args.rows)
    print(
        f"data: {data.name}: {args.rows:,} events x {N_NUMERIC + N_CATEGORICAL} features "
        f"({N_NUMERIC} numeric, {N_CATEGORICAL} categorical), "
        f"{data.stat().st_size / 2**20:.0f} MiB Parquet; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} (other work on the machine slows wall time)"
    )
    targets = [("sqlite", None)]
    pg_url = _fresh_pg_schema(args.pg)
    if pg_url:
        targets.append(("postgresql", pg_url))
    for name, url in targets:
        with tempfile.TemporaryDirectory(prefix="wk-bench-") as tmp:
            folder = Path(tmp)
            url = url or f"sqlite:///{folder / 'bench.db'}"
            out = subprocess.run(
                [sys.executable, __file__, "--child", url, str(data), str(folder)],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(f"{name:<11} FAILED: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{name:<11} {r['rows']:>9,.0f} events in {r['seconds']:6.2f} s = "
                f"{r['rows'] / r['seconds']:>9,.0f} events/s; peak RSS {r['peak_mb']:,.0f} MB; "
                f"{r['windows']:.0f} hourly windows profiled ({r['profiled']:,.0f} events); "
                f"{r['cpu']:.1f} CPU-s = {r['rows'] / r['cpu']:,.0f} events per CPU-second"
            )
    print("target: sqlite >= 100,000 events/s with peak RSS < 2,048 MB")


def _fresh_pg_schema(server: str) -> str | None:
    try:
        import uuid

        import psycopg

        plain = server.replace("postgresql+psycopg://", "postgresql://")
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(plain, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:
        print(f"postgresql  skipped: {exc}")
        return None
    return f"{server}?options=-csearch_path%3D{schema}"


if __name__ == "__main__":
    main()
