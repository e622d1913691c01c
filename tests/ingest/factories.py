"""Test data: a small real policy file (loaded by watchkeeper.policy) and event tables."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

POLICY = """\
version: 1
people:
  ana: {{email: ana@example.com}}
retention: {{events: {retention}}}
models:
  - name: credit
    task: binary_classification
    owner: ana
    reference: reference.parquet
    schema:
      features:
        income: {{type: numeric, min: 0}}
        age: {{type: numeric, min: 18, max: 120, nullable: false}}
        region: {{type: categorical, categories: [north, south, east, west]}}
        member: {{type: boolean}}
      prediction: probability
      label: binary
      segments: [region]
    window: {{{window}}}
"""

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def events(
    n: int, start: int = 0, *, seed: int = 0, t0: datetime = T0, spacing_s: float = 1.0
) -> pa.Table:
    rng = np.random.default_rng(seed)
    ts = np.datetime64(t0.replace(tzinfo=None), "us") + (
        (np.arange(start, start + n) * spacing_s * 1e6).astype("timedelta64[us]")
    )
    return pa.table(
        {
            "event_id": [f"e{i}" for i in range(start, start + n)],
            "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "model_version": ["v1"] * n,
            "income": rng.gamma(2.0, 20_000.0, n),
            "age": rng.integers(18, 90, n).astype(float),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "member": rng.random(n) < 0.3,
            "prediction": rng.integers(0, 2, n),
            "probability": rng.random(n),
            "latency_ms": rng.exponential(20.0, n),
        }
    )


def write_policy(folder: Path, window: str = "every: 1h", retention: str = "30d") -> Path:
    path = folder / "watchkeeper.yaml"
    path.write_text(POLICY.format(window=window, retention=retention))
    reference = events(500, seed=99).drop_columns(["event_id"])
    reference = reference.append_column("label", pa.array(np.arange(500) % 3 == 0))
    pq.write_table(reference, folder / "reference.parquet")
    return path
