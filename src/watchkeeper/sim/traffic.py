"""Generated traffic of one binary classifier, window by window. Pure numpy; seeded.

Each window carries what a monitored model produces: feature values (NaN for nulls), the
model's probabilities, the true labels with the delay after which each label arrives, request
latency, and a segment per event. `Effects` describe what an incident does to a window; the
scenario library (scenarios.py) scripts them at known times.

The world: features are standard normal (Student t with 3 degrees of freedom for heavy tails),
optionally with a daily/weekly cycle in their means and in volume; the true label follows a
logistic model; the deployed model starts out equal to it, so it is calibrated and accurate
until an incident says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

FEATURES = ("income", "utilisation", "tenure", "balance", "age", "n_accounts", "inquiries",
            "region_score")
COEFFICIENTS = (1.4, -1.1, 0.8, 0.55, 0.35, 0.2, 0.12, 0.06)
SEGMENTS = ("north", "south", "east", "west")
SEGMENT_SHARES = (0.4, 0.3, 0.2, 0.1)


@dataclass(frozen=True, slots=True)
class TrafficSpec:
    n_features: int = 8
    events_per_window: int = 400
    window: timedelta = timedelta(hours=4)
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    n_windows: int = 126  # three weeks of 4-hour windows
    intercept: float = -0.4
    seasonal_amplitude: float = 0.0  # feature-mean cycle, in standard deviations
    seasonal_features: tuple[int, ...] = (0, 3, 4)
    volume_amplitude: float = 0.0  # relative swing of events per window
    heavy_tails: bool = False
    growth_per_week: float = 0.0  # relative volume growth
    drift_per_week: float = 0.0  # benign mean creep, standard deviations per week
    null_rate: float = 0.01
    label_delay_hours: float = 0.5  # mean (exponential)
    latency_ms: float = 80.0  # median
    latency_sigma: float = 0.3  # lognormal shape; heavy tails use 0.8

    def __post_init__(self) -> None:
        if not 1 <= self.n_features <= len(FEATURES):
            raise ValueError(f"n_features must be in 1..{len(FEATURES)}")
        if self.events_per_window < 20 or self.n_windows < 1:
            raise ValueError("need at least 20 events per window and one window")

    @property
    def feature_names(self) -> tuple[str, ...]:
        return FEATURES[: self.n_features]

    def importance(self) -> dict[str, float]:
        """|coefficient| scaled so that the most important feature has 1."""
        coefs = np.abs(COEFFICIENTS[: self.n_features])
        return {n: float(c / coefs.max()) for n, c in zip(self.feature_names, coefs, strict=True)}

    def window_start(self, index: int) -> datetime:
        return self.start + index * self.window


@dataclass(frozen=True, slots=True)
class Effects:
    """What an incident does to one window (identity when default)."""

    nulls: dict[int, float] = field(default_factory=dict)  # feature -> null rate
    stuck: dict[int, float] = field(default_factory=dict)  # feature -> constant value
    shift: dict[int, float] = field(default_factory=dict)  # feature -> mean shift (sd)
    concept: float = 0.0  # 0..1: how far the true relation moved away from the model's
    calibration_offset: float = 0.0  # true log-odds move by this; ranking stays intact
    latency_factor: float = 1.0
    label_delay_factor: float = 1.0


NO_EFFECTS = Effects()


@dataclass(frozen=True, slots=True)
class WindowData:
    index: int
    start: datetime
    end: datetime
    features: np.ndarray  # (n, d) float, NaN = null
    proba: np.ndarray  # (n,) model's probability of class 1
    labels: np.ndarray  # (n,) int 0/1, known only after label_delay_h
    label_delay_h: np.ndarray  # (n,)
    latency_ms: np.ndarray  # (n,)
    segments: np.ndarray  # (n,) index into SEGMENTS

    @property
    def n(self) -> int:
        return int(self.proba.shape[0])

    def labelled(self) -> np.ndarray:
        """Mask of events whose label has arrived by the window's end (arrival is uniform
        over the window, so an event arriving at fraction u waits (1-u) windows)."""
        hours = (self.end - self.start).total_seconds() / 3600.0
        elapsed = np.linspace(hours, 0.0, self.n, endpoint=False)
        return self.label_delay_h <= elapsed


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _seasonal_phase(when: datetime) -> float:
    """A daily sine plus a weekend offset, in [-1.5, 1.5]."""
    day = math.sin(2 * math.pi * (when.hour + when.minute / 60) / 24.0)
    return day + (0.5 if when.weekday() >= 5 else 0.0)


def generate_window(
    spec: TrafficSpec, index: int, rng: np.random.Generator, effects: Effects = NO_EFFECTS
) -> WindowData:
    start = spec.window_start(index)
    weeks = index * spec.window / timedelta(weeks=1)
    phase = _seasonal_phase(start)
    volume = spec.events_per_window * (1 + spec.growth_per_week * weeks)
    volume *= 1 + spec.volume_amplitude * phase / 1.5
    n = max(20, round(volume))
    d = spec.n_features
    if spec.heavy_tails:
        x = rng.standard_t(3, size=(n, d)) / math.sqrt(3.0)  # unit variance
    else:
        x = rng.standard_normal((n, d))
    x += spec.drift_per_week * weeks
    if spec.seasonal_amplitude:
        for j in spec.seasonal_features:
            if j < d:
                x[:, j] += spec.seasonal_amplitude * phase
    for j, delta in effects.shift.items():
        x[:, j] += delta
    beta = np.asarray(COEFFICIENTS[:d])
    true_beta = beta.copy()
    if effects.concept:
        # The world changes while inputs do not: the two strongest effects reverse.
        true_beta[:2] = beta[:2] * (1 - 2 * effects.concept)
    true_logit = spec.intercept + x @ true_beta
    true_logit = true_logit + effects.calibration_offset
    labels = (rng.random(n) < _sigmoid(true_logit)).astype(np.int8)
    observed = x.copy()
    null_mask = rng.random((n, d)) < spec.null_rate
    for j, rate in effects.nulls.items():
        null_mask[:, j] = rng.random(n) < rate
    for j, value in effects.stuck.items():
        observed[:, j] = value
    observed[null_mask] = np.nan
    # The model sees what the pipeline delivers: nulls imputed with the mean (0).
    proba = _sigmoid(spec.intercept + np.nan_to_num(observed, nan=0.0) @ beta)
    delay = rng.exponential(spec.label_delay_hours * effects.label_delay_factor, n)
    sigma = 0.8 if spec.heavy_tails else spec.latency_sigma
    latency = spec.latency_ms * effects.latency_factor * rng.lognormal(0.0, sigma, n)
    segments = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    return WindowData(index, start, start + spec.window, observed, proba, labels, delay,
                      latency, segments)


def reference(spec: TrafficSpec, seed: int, weeks: float = 1.0) -> WindowData:
    """A healthy sample covering `weeks` of the cycle, as a model's reference/training data."""
    rng = np.random.default_rng([seed, 7919])
    count = max(1, round(weeks * timedelta(weeks=1) / spec.window))
    parts = [generate_window(spec, i, rng) for i in range(count)]
    return WindowData(
        -1, parts[0].start, parts[-1].end,
        np.concatenate([p.features for p in parts]), np.concatenate([p.proba for p in parts]),
        np.concatenate([p.labels for p in parts]),
        np.concatenate([p.label_delay_h for p in parts]),
        np.concatenate([p.latency_ms for p in parts]),
        np.concatenate([p.segments for p in parts]),
    )


def generate(
    spec: TrafficSpec, seed: int, effects: Callable[[int], Effects] = lambda _: NO_EFFECTS
) -> Iterator[WindowData]:
    """The windows of one run, in order; the same seed gives the same traffic."""
    rng = np.random.default_rng(seed)
    for i in range(spec.n_windows):
        yield generate_window(spec, i, rng, effects(i))
