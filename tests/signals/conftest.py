"""A real policy for a credit model whose outputs follow a known logistic rule, so the tests
know what every signal should say: x1 and x2 are numeric, region categorical; the model's
probability is sigmoid(1.5 x1 - x2) and labels are drawn from it (a calibrated model)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from watchkeeper.policy import load_policy

POLICY = """\
version: 1
people:
  ana: {{email: ana@example.com}}
models:
  - name: credit
    task: binary_classification
    owner: ana
    reference: reference.parquet
    schema:
      features:
        x1: {{type: numeric, importance: 0.5}}
        x2: {{type: numeric, importance: 0.3}}
        minor: {{type: numeric, importance: 0.01}}
        region: {{type: categorical}}
      prediction: probability
      label: binary
      segments: [region]
    window: {{every: 1h, min_events: {min_events}}}
    label_delay: 2h
    kpis:
      - {{metric: f1, min: 0.7}}
      - {{metric: latency_p99_ms, max: 250}}
"""

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _make_rows(
    n: int,
    *,
    seed: int,
    x1_shift: float = 0.0,
    x1_scale: float = 1.0,
    region_p: tuple[float, float, float] = (0.5, 0.3, 0.2),
    latency_ms: float = 40.0,
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(x1_shift, x1_scale, n)
    x2 = rng.normal(0.0, 1.0, n)
    p = 1.0 / (1.0 + np.exp(-(1.5 * x1 - x2)))
    return {
        "x1": x1,
        "x2": x2,
        "minor": rng.normal(5.0, 1.0, n),
        "region": rng.choice(np.array(["north", "south", "east"]), n, p=list(region_p)),
        "probability": p,
        "prediction": (p >= 0.5).astype(int),
        "label": (rng.random(n) < p).astype(int),
        "latency_ms": rng.gamma(4.0, latency_ms / 4.0, n),
    }


def write_policy(folder: Path, *, min_events: int = 100, reference_rows: int = 4000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "watchkeeper.yaml"
    path.write_text(POLICY.format(min_events=min_events))
    pq.write_table(pa.table(_make_rows(reference_rows, seed=1)), folder / "reference.parquet")
    return path


@pytest.fixture
def policy(tmp_path: Path):
    return load_policy(write_policy(tmp_path / "policy"))


@pytest.fixture(scope="session")
def make_rows():
    """make_rows(n, seed=, x1_shift=, x1_scale=, region_p=, latency_ms=) -> columns."""
    return _make_rows


@pytest.fixture(scope="session")
def write_policy_fn():
    """write_policy(folder, min_events=100, reference_rows=4000) -> policy path."""
    return write_policy
