"""The change-point scorer of the evaluation harness counts detections, delays and false alarms
by its documented rule, on hand-checked cases and on a real detector."""

from __future__ import annotations

import math

import numpy as np
import pytest

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.stream import ADWIN
from watchkeeper.evaluation.changepoints import (
    LabelledStream,
    match,
    one_at_a_time,
    score,
    vectorised,
)


def test_first_detection_after_each_change_is_a_hit_and_the_rest_are_false_alarms() -> None:
    m = match([5, 103, 110, 320, 340, 999], [100, 300], 1000)
    assert m.delays == (3, 20)
    assert m.missed == 0
    assert m.false_alarms == 4  # 5 (before any change), 110, 340, 999


def test_detections_later_than_max_delay_are_false_alarms_and_the_change_is_missed() -> None:
    m = match([160], [100], 1000, max_delay=50)
    assert (m.delays, m.missed, m.false_alarms) == ((), 1, 1)


def test_a_detection_cannot_serve_a_later_change() -> None:
    m = match([250], [100, 200], 1000)
    assert m.delays == (50,)  # the change at 200, not the one at 100
    assert m.missed == 1 and m.false_alarms == 0


def test_tolerance_accepts_slightly_early_detections_with_zero_delay() -> None:
    assert match([97], [100], 200, tolerance=5).delays == (0,)
    assert match([97], [100], 200).false_alarms == 1


def test_score_pools_streams_and_reports_rates() -> None:
    streams = [
        LabelledStream("a", np.zeros(10_000), (5000,)),
        LabelledStream("b", np.zeros(10_000), ()),
    ]
    fixed = {0: [5010, 7000], 1: [3]}
    calls = iter(range(2))

    def detect(values: np.ndarray) -> list[int]:
        return fixed[next(calls)]

    s = score(detect, streams)
    assert (s.n_points, s.n_changes, s.n_detected, s.n_false_alarms) == (20_000, 1, 1, 2)
    assert s.detection_rate == 1.0 and s.mean_delay == 10.0 and s.median_delay == 10.0
    assert s.false_alarms_per_10k == pytest.approx(1.0)
    assert s.throughput > 0


def test_no_detection_gives_nan_delays_not_zero() -> None:
    s = score(lambda v: [], [LabelledStream("a", np.zeros(100), (50,))])
    assert s.detection_rate == 0.0 and math.isnan(s.mean_delay)


def test_bad_change_points_and_empty_input_are_refused() -> None:
    with pytest.raises(InputError, match="change_points"):
        LabelledStream("x", np.zeros(10), (5, 3))
    with pytest.raises(InputError):
        LabelledStream("x", np.zeros(10), (10,))
    with pytest.raises(InputError, match="streams"):
        score(lambda v: [], [])


def test_vectorised_and_one_at_a_time_adapters_agree_on_a_real_detector() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, 3000), rng.normal(1.5, 1, 3000)])
    streams = [LabelledStream("shift", values, (3000,))]
    a = score(vectorised(ADWIN), streams, max_delay=500)
    b = score(one_at_a_time(ADWIN), streams, max_delay=500)
    assert a.detection_rate == b.detection_rate == 1.0
    assert a.mean_delay == b.mean_delay and a.n_false_alarms == b.n_false_alarms
