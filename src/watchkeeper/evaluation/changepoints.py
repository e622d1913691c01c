"""Score a change detector on streams whose change points are known.

A detection at index d counts for change point c when c - tolerance <= d < c + max_delay and d
comes before the next change point; the first such detection is the change's detection, with
delay max(0, d - c). Every other detection is a false alarm. The metrics follow the usual
reporting of streaming detectors: detection rate (share of changes detected), mean and median
delay (in points), false alarms per 10,000 points, and throughput (points per CPU-second spent in
the detector).
"""

from __future__ import annotations

import bisect
import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from watchkeeper.core.errors import InputError

Detect = Callable[[NDArray[np.float64]], ArrayLike]
"""Runs a fresh detector over a whole stream and returns the indices it flagged."""


@dataclass(frozen=True)
class LabelledStream:
    """A stream and the indices where its distribution changes (the first changed point)."""

    name: str
    values: NDArray[np.float64]
    change_points: tuple[int, ...]

    def __post_init__(self) -> None:
        n = len(self.values)
        cps = list(self.change_points)
        if cps != sorted(set(cps)) or any(not 0 < c < n for c in cps):
            raise InputError(
                f"change points {cps} of a stream of {n} values",
                field="change_points",
                file=self.name,
                expected="strictly increasing indices in [1, len(values))",
            )


@dataclass(frozen=True)
class Matched:
    delays: tuple[int, ...]  # one per detected change
    missed: int
    false_alarms: int


@dataclass(frozen=True)
class Score:
    n_streams: int
    n_points: int
    n_changes: int
    n_detected: int
    n_false_alarms: int
    detection_rate: float  # nan when there are no change points
    mean_delay: float  # nan when nothing was detected
    median_delay: float
    false_alarms_per_10k: float
    throughput: float  # points per CPU-second spent in `detect`

    def row(self) -> str:
        return (
            f"rate {self.detection_rate:6.1%}  delay mean {self.mean_delay:7.1f} "
            f"median {self.median_delay:6.1f}  FA/10k {self.false_alarms_per_10k:7.2f}  "
            f"{self.throughput / 1e6:8.2f} M/s"
        )


def match(
    detections: ArrayLike,
    change_points: Sequence[int],
    n: int,
    *,
    max_delay: int | None = None,
    tolerance: int = 0,
) -> Matched:
    """Pair detections with change points (see the module docstring for the rule).

    >>> match([5, 103, 110, 400], [100, 300], 500, max_delay=50)
    Matched(delays=(3,), missed=1, false_alarms=3)
    """
    if tolerance < 0 or (max_delay is not None and max_delay <= 0):
        raise InputError(
            "bad matching window", field="max_delay", expected="max_delay > 0, tolerance >= 0"
        )
    hits = sorted(int(d) for d in np.asarray(detections).ravel())
    used = [False] * len(hits)
    delays: list[int] = []
    bounds = [*change_points, n]
    for j, c in enumerate(change_points):
        lo = c - tolerance
        hi = bounds[j + 1] if max_delay is None else min(bounds[j + 1], c + max_delay)
        k = bisect.bisect_left(hits, lo)
        while k < len(hits) and hits[k] < hi and used[k]:
            k += 1
        if k < len(hits) and hits[k] < hi:
            used[k] = True
            delays.append(max(0, hits[k] - c))
    return Matched(tuple(delays), len(change_points) - len(delays), used.count(False))


def score(
    detect: Detect,
    streams: Iterable[LabelledStream],
    *,
    max_delay: int | None = None,
    tolerance: int = 0,
) -> Score:
    """Run ``detect`` on every stream and pool the matches into one ``Score``."""
    delays: list[int] = []
    n_points = n_changes = n_false = n_streams = 0
    cpu = 0.0
    for s in streams:
        values = np.ascontiguousarray(s.values, dtype=np.float64)
        t0 = time.process_time()
        found = detect(values)
        cpu += time.process_time() - t0
        m = match(found, s.change_points, len(values), max_delay=max_delay, tolerance=tolerance)
        delays += m.delays
        n_false += m.false_alarms
        n_points += len(values)
        n_changes += len(s.change_points)
        n_streams += 1
    if n_points == 0:
        raise InputError("no stream to score", field="streams", expected="at least one stream")
    return Score(
        n_streams=n_streams,
        n_points=n_points,
        n_changes=n_changes,
        n_detected=len(delays),
        n_false_alarms=n_false,
        detection_rate=len(delays) / n_changes if n_changes else math.nan,
        mean_delay=statistics.fmean(delays) if delays else math.nan,
        median_delay=float(statistics.median(delays)) if delays else math.nan,
        false_alarms_per_10k=1e4 * n_false / n_points,
        throughput=n_points / cpu if cpu > 0 else math.inf,
    )


def vectorised(factory: Callable[[], object]) -> Detect:
    """``detect`` for a watchkeeper streaming detector: one fresh detector, one ``update_many``."""

    def detect(values: NDArray[np.float64]) -> ArrayLike:
        return factory().update_many(values)  # type: ignore[attr-defined]

    return detect


def one_at_a_time(
    factory: Callable[[], object], convert: Callable[[float], object] = float
) -> Detect:
    """``detect`` for any River-protocol detector: ``update(x)`` then ``drift_detected``."""

    def detect(values: NDArray[np.float64]) -> ArrayLike:
        d = factory()
        update = d.update  # type: ignore[attr-defined]
        out = []
        for i, x in enumerate(map(convert, values.tolist())):
            update(x)
            if d.drift_detected:  # type: ignore[attr-defined]
                out.append(i)
        return out

    return detect
