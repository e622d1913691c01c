"""Service load bar: sustained HTTP ingest against `watchkeeper serve` (issue 7).

Starts `watchkeeper serve --role api --auth` in a subprocess on a fresh SQLite database, and a
separate generator process that posts batches of 1,000 events x 50 features as Arrow IPC
streams over keep-alive connections for a fixed time. Prints events/s, request latency p50/p99
and lost events (events acknowledged by the server minus events found in the store at the end).
Bar: >= 20,000 events/s, p99 < 250 ms, nothing lost, on 2 cores.

    python benchmarks/service.py [--seconds 30] [--concurrency 2] [--batch 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

N_NUMERIC, N_CATEGORICAL = 40, 10
POLICY = """\
version: 1
people: {{bench: {{email: bench@example.com}}}}
models:
  - name: bench
    task: binary_classification
    owner: bench
    reference: reference.parquet
    schema:
      features:
{features}
      prediction: probability
      label: binary
    window: {{every: 1h}}
"""


def batch(rows: int, start: int, rng: np.random.Generator, t0: np.datetime64) -> pa.Table:
    cols: dict[str, pa.Array] = {
        "event_id": pa.array([f"ev-{i:010d}" for i in range(start, start + rows)]),
        "timestamp": pa.array(t0 + (np.arange(start, start + rows) % 3_600_000)
                              .astype("timedelta64[ms]"), pa.timestamp("us", tz="UTC")),
        "prediction": pa.array(rng.integers(0, 2, rows)),
        "probability": pa.array(rng.random(rows)),
        "latency_ms": pa.array(rng.exponential(20.0, rows)),
    }
    for j in range(N_NUMERIC):
        cols[f"num_{j:02d}"] = pa.array(rng.normal(j, 1.0 + j, rows))
    for j in range(N_CATEGORICAL):
        cats = np.array([f"c{k}" for k in range(5 + 5 * j)])
        cols[f"cat_{j:02d}"] = pa.array(cats[rng.integers(0, cats.size, rows)])
    return pa.table(cols)


def ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def setup(folder: Path) -> tuple[Path, str, str]:
    """Policy, reference data, database and token; returns (policy, db url, token)."""
    from watchkeeper.core.clock import SYSTEM_CLOCK
    from watchkeeper.engine import access
    from watchkeeper.store import Store

    feats = [f"        num_{j:02d}: {{type: numeric}}" for j in range(N_NUMERIC)]
    feats += [f"        cat_{j:02d}: {{type: categorical}}" for j in range(N_CATEGORICAL)]
    t0 = np.datetime64(SYSTEM_CLOCK.now().replace(tzinfo=None, minute=0, second=0,
                                                  microsecond=0), "ms")
    ref = batch(2000, 10**9, np.random.default_rng(1), t0).drop_columns(["event_id"])
    pq.write_table(ref.append_column("label", pa.array(np.arange(2000) % 2 == 0)),
                   folder / "reference.parquet")
    policy = folder / "watchkeeper.yaml"
    policy.write_text(POLICY.format(features="\n".join(feats)))
    url = f"sqlite:///{folder}/wk.db"
    store = Store.open(url)
    with store.session() as s:
        token, _ = access.create_token(s, name="bench", role="model_owner", created_by="bench",
                                       now=SYSTEM_CLOCK.now())
    store.close()
    return policy, url, token


def generator(url: str, token: str, seconds: float, concurrency: int, rows: int) -> None:
    """Child process: pre-build batches (untimed), post them for `seconds`, print JSON."""
    import httpx

    now = np.datetime64(int(time.time()) // 3600 * 3600, "s").astype("datetime64[ms]")
    rng = np.random.default_rng(0)
    bodies = [ipc(batch(rows, 0, rng, now)) for _ in range(8)]  # shapes to reuse
    schemas = [pa.ipc.open_stream(b).read_all() for b in bodies]
    latencies: list[float] = []
    sent = acked = failed = 0
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal sent, acked, failed
        headers = {"Authorization": f"Bearer {token}",
                   "Content-Type": "application/vnd.apache.arrow.stream"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            while time.perf_counter() < deadline:
                with lock:
                    k = next(counter)
                t = schemas[k % len(schemas)]
                ids = pa.array([f"ev-{k:07d}-{i:04d}" for i in range(rows)])
                body = ipc(t.set_column(0, "event_id", ids))
                start = time.perf_counter()
                r = http.post("/v1/models/bench/events", content=body)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    sent += rows
                    if r.status_code == 200:
                        acked += r.json()["n_new"]
                    else:
                        failed += 1

    begun = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - begun
    print(json.dumps({"sent": sent, "acked": acked, "failed": failed, "seconds": elapsed,
                      "latencies": latencies}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--generator", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generator:
        generator(args.generator[0], args.generator[1], args.seconds, args.concurrency,
                  args.batch)
        return
    with tempfile.TemporaryDirectory(prefix="wk-service-") as tmp:
        folder = Path(tmp)
        policy, db, token = setup(folder)
        port = free_port()
        env = {**os.environ, "WATCHKEEPER_DATA_DIR": str(folder / "data")}
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("watchkeeper")), "serve", "--role", "api", "--auth",
             "--port", str(port), "--db", db, "--policy", str(policy)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, server)
            load0 = os.getloadavg()[0]
            out = subprocess.run(
                [sys.executable, __file__, "--generator", url, token, "--seconds",
                 str(args.seconds), "--concurrency", str(args.concurrency), "--batch",
                 str(args.batch)], capture_output=True, text=True, check=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
        result = json.loads(out.stdout)
        stored = _stored(db, policy, folder / "data")
        _report(result, stored, args, load0)


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"server exited: {server.stderr.read().decode()[-2000:]}"
                             if server.stderr else "server exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start in 30 s")


def _stored(db: str, policy: Path, data_dir: Path) -> int:
    from watchkeeper.ingest import IngestService
    from watchkeeper.policy import load_policy
    from watchkeeper.store import Store

    store = Store.open(db)
    try:
        service = IngestService(store, load_policy(policy), data_dir)
        return service.read_events("bench", with_labels=False).num_rows
    finally:
        store.close()


def _report(result: dict, stored: int, args: argparse.Namespace, load0: float) -> None:
    lat = np.array(result["latencies"]) * 1000
    rate = result["acked"] / result["seconds"]
    p50, p99 = (float(np.percentile(lat, q)) for q in (50, 99))
    lost = result["acked"] - stored
    print(f"watchkeeper serve --role api (SQLite, auth on), {os.cpu_count()} cores, "
          f"load average before {load0:.2f}")
    print(f"batches of {args.batch:,} events x 50 features (Arrow IPC), "
          f"{args.concurrency} connections, {result['seconds']:.1f} s")
    print(f"{'':22}{'measured':>14}{'bar':>12}")
    print(f"{'events/s':22}{rate:>14,.0f}{'>= 20,000':>12}  {'ok' if rate >= 20_000 else 'MISS'}")
    print(f"{'p50 request (ms)':22}{p50:>14.1f}")
    print(f"{'p99 request (ms)':22}{p99:>14.1f}{'< 250':>12}  {'ok' if p99 < 250 else 'MISS'}")
    print(f"{'requests failed':22}{result['failed']:>14}")
    print(f"{'events acked/stored':22}{result['acked']:>7,}/{stored:<7,}")
    print(f"{'lost':22}{lost:>14}{'0':>12}  {'ok' if lost == 0 else 'MISS'}")


if __name__ == "__main__":
    main()
