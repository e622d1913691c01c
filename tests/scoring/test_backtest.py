from __future__ import annotations

from datetime import timedelta

import pytest

from watchkeeper.scoring.backtest import Incident, WindowOutcome, evaluate, nab_sigmoid

from .helpers import window

H = timedelta(hours=1)


def outcomes(model: str, tiers: list[int]) -> list[WindowOutcome]:
    return [WindowOutcome(model, window(i, model).start, window(i, model).end, t)
            for i, t in enumerate(tiers)]


def incident(model: str, first: int, last: int, verdict: str = "confirmed") -> Incident:
    return Incident(model, window(first, model).start, window(last, model).end,
                    verdict=verdict)


def test_perfect_detection() -> None:
    r = evaluate(outcomes("a", [0, 0, 2, 2, 0, 0]), [incident("a", 2, 3)])
    assert (r.precision, r.recall, r.f1) == (1.0, 1.0, 1.0)
    assert r.delay_median == 0 and r.false_alarms == 0
    assert r.nab_score == pytest.approx(100.0)


def test_late_detection_counts_delay_in_windows_and_lowers_timeliness() -> None:
    r = evaluate(outcomes("a", [0, 0, 0, 0, 2, 2, 0, 0]), [incident("a", 2, 5)])
    assert r.recall == 1.0 and r.delay_median == 2
    assert r.delay_median_hours == pytest.approx(3.0)  # raised when window 4 closed
    assert 0 < r.nab_score < 100


def test_false_alarms_and_misses() -> None:
    tiers = [2, 0, 0, 0, 0, 0, 0, 0] + [0] * 160
    r = evaluate(outcomes("a", tiers) + outcomes("b", [0] * 168),
                 [incident("a", 4, 6), incident("b", 10, 12)])
    assert r.alerts == 1 and r.false_alarms == 1 and r.precision == 0.0
    assert r.recall == 0.0 and r.detected == 0
    assert r.false_alarms_per_week == pytest.approx(0.5)  # 1 false alarm over two model-weeks
    assert r.nab_score < 0


def test_t1_does_not_count_as_an_alert_at_t2() -> None:
    r = evaluate(outcomes("a", [0, 1, 1, 0]), [incident("a", 1, 2)])
    assert r.alerts == 0 and r.recall == 0.0
    assert evaluate(outcomes("a", [0, 1, 1, 0]), [incident("a", 1, 2)], min_tier=1).recall == 1


def test_alerts_on_dismissed_incidents_are_false_alarms() -> None:
    r = evaluate(outcomes("a", [0, 2, 2, 0]), [incident("a", 1, 2, "false_positive")])
    assert r.false_alarms == 1 and r.incidents == 0


def test_grace_period_after_the_incident_end() -> None:
    outs = outcomes("a", [0, 0, 0, 2, 0])
    assert evaluate(outs, [incident("a", 1, 2)]).recall == 0.0
    assert evaluate(outs, [incident("a", 1, 2)], grace=H).recall == 1.0


def test_nab_sigmoid_shape() -> None:
    assert nab_sigmoid(-1.0) == pytest.approx(0.9866, abs=1e-4)
    assert nab_sigmoid(0.0) == 0.0
    assert nab_sigmoid(1.0) < 0
