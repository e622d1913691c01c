"""Calibration on a small synthetic history with a known truth: latency spikes are incidents,
prediction-drift blips are harmless noise that responders dismissed."""

from __future__ import annotations

import random

import pytest

from watchkeeper.core.enums import SignalKind as K
from watchkeeper.core.errors import InputError
from watchkeeper.scoring.backtest import Incident
from watchkeeper.scoring.calibration import fit, label_windows
from watchkeeper.scoring.config import ScoringConfig

from .helpers import sig, window


def history(seed: int, models: int = 12, n: int = 60):
    rng = random.Random(seed)
    windows, incidents = [], []
    for m in range(models):
        model = f"m{m}"
        start = rng.randrange(10, n - 12)
        blip = rng.randrange(0, n)
        for i in range(n):
            key = window(i, model)
            inside = start <= i < start + 6
            latency = (0.85 if inside else 0.15) + rng.gauss(0, 0.07)
            signals = [
                sig(K.LATENCY, max(0.0, min(1.0, latency)), method="p99"),
                sig(K.PREDICTION_DRIFT, 0.9 if abs(i - blip) <= 1 else rng.uniform(0, 0.4)),
                sig(K.DATA_DRIFT, rng.uniform(0, 0.45), feature="x"),
            ]
            windows.append((key, signals))
        incidents.append(Incident(model, window(start, model).start,
                                  window(start + 5, model).end))
        incidents.append(Incident(model, window(max(0, blip - 1), model).start,
                                  window(min(n - 1, blip + 1), model).end,
                                  verdict="false_positive"))
    return windows, incidents


def test_fit_learns_which_kinds_matter_and_reaches_the_target_precision() -> None:
    base = ScoringConfig()
    windows, incidents = history(1)
    hist = label_windows(windows, incidents, base)
    assert sum(lw.weight > 1 for lw in hist) > 0  # dismissed windows weigh more
    result = fit(hist, incidents, base, target_precision=0.95)
    w = result.config.weights
    assert w[K.LATENCY] > 3 * w[K.PREDICTION_DRIFT]
    assert result.after.precision >= 0.95 and result.after.recall >= 0.9
    assert result.after.false_alarms <= result.before.false_alarms
    assert result.config.version != base.version
    assert result.config.version.startswith("calibrated-")

    # Generalises to a history it has not seen.
    new_windows, new_incidents = history(2)
    from watchkeeper.scoring.backtest import evaluate
    from watchkeeper.scoring.calibration import outcomes
    held_out = evaluate(outcomes(label_windows(new_windows, new_incidents, result.config),
                                 result.config), new_incidents)
    assert held_out.precision >= 0.9 and held_out.recall >= 0.9


def test_fit_needs_both_incident_and_healthy_windows() -> None:
    windows, _ = history(3, models=2)
    hist = label_windows(windows, [], ScoringConfig())
    with pytest.raises(InputError, match="inside and outside"):
        fit(hist, [], ScoringConfig())
