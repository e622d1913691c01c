"""A regression model: realised MAE/RMSE against KPIs and against the reference, prediction
drift on the predicted values, no CBPE (it is for classifiers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from watchkeeper.core.enums import SignalKind
from watchkeeper.core.records import WindowKey
from watchkeeper.policy import load_policy
from watchkeeper.profiles import build_profile
from watchkeeper.signals import Labelled, ReferenceBaseline, WindowInputs, compute_signals

POLICY = """\
version: 1
people:
  ana: {email: ana@example.com}
models:
  - name: price
    task: regression
    owner: ana
    reference: reference.parquet
    schema:
      features:
        size: {type: numeric, min: 0}
      prediction: value
      label: numeric
    window: {events: 500}
    kpis:
      - {metric: mae, max: 12}
"""
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def rows(n, seed, noise=10.0, shift=0.0):
    rng = np.random.default_rng(seed)
    size = rng.gamma(3.0, 30.0, n) + shift
    truth = 2.0 * size + rng.normal(0, noise, n)
    return size, 2.0 * size, truth


@pytest.fixture
def policy(tmp_path: Path):
    (tmp_path / "watchkeeper.yaml").write_text(POLICY)
    (tmp_path / "reference.parquet").write_bytes(b"")  # not read by compute_signals
    return load_policy(tmp_path / "watchkeeper.yaml")


def _profile(size, pred):
    return build_profile(
        {"size": size}, {"size": "numeric"}, prediction=pred, prediction_type="numeric"
    )


def test_regression_kpi_reference_and_prediction_drift(policy):
    ref_size, ref_pred, ref_truth = rows(5000, 1)
    size, pred, truth = rows(1000, 2, noise=25.0, shift=40.0)
    mp = policy.model("price")
    baseline = ReferenceBaseline(None, "mae", float(np.mean(np.abs(ref_pred - ref_truth))))
    inputs = WindowInputs(
        current=_profile(size, pred),
        reference=_profile(ref_size, ref_pred),
        labelled=Labelled(truth, y_pred=pred),
        baseline=baseline,
    )
    window = WindowKey("price", T0, T0 + timedelta(hours=1))
    signals = compute_signals(window, mp, policy.signals_for("price"), inputs)
    perf = [s for s in signals if s.kind is SignalKind.PERFORMANCE]
    kpi = next(s for s in perf if s.details.get("bound") == "max")
    assert kpi.method == "mae" and kpi.details["flagged"]
    assert kpi.statistic == pytest.approx(np.mean(np.abs(pred - truth)))
    vs_ref = next(s for s in perf if "reference" in s.details)
    assert vs_ref.details["flagged"] and "rose" in vs_ref.evidence
    assert any(s.kind is SignalKind.PREDICTION_DRIFT and s.details["drifted"] for s in signals)
    assert not any(
        s.kind in (SignalKind.ESTIMATED_PERFORMANCE, SignalKind.CALIBRATION) for s in signals
    )


MULTICLASS = """\
version: 1
people:
  ana: {email: ana@example.com}
models:
  - name: topic
    task: multiclass_classification
    owner: ana
    reference: reference.parquet
    schema:
      features:
        length: {type: numeric}
      prediction: label
      label: multiclass
    window: {every: 1h}
    kpis:
      - {metric: accuracy, min: 0.8}
"""


def test_multiclass_accuracy_kpi_from_labels(tmp_path):
    (tmp_path / "watchkeeper.yaml").write_text(MULTICLASS)
    (tmp_path / "reference.parquet").write_bytes(b"")
    policy = load_policy(tmp_path / "watchkeeper.yaml")
    rng = np.random.default_rng(0)
    truth = rng.choice(["a", "b", "c"], 400).astype(object)
    pred = truth.copy()
    pred[:160] = "c"  # 40% forced to c; a third of those were c already
    length = rng.normal(100, 10, 400)
    prof = build_profile({"length": length}, {"length": "numeric"}, prediction=pred)
    inputs = WindowInputs(current=prof, reference=prof, labelled=Labelled(truth, y_pred=pred))
    window = WindowKey("topic", T0, T0 + timedelta(hours=1))
    signals = compute_signals(window, policy.model("topic"), policy.signals_for("topic"), inputs)
    acc = next(s for s in signals if s.kind is SignalKind.PERFORMANCE)
    assert acc.method == "accuracy" and acc.details["flagged"]
    assert acc.statistic == pytest.approx(np.mean(truth == pred))
