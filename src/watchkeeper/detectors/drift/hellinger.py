"""Hellinger distance: sqrt(1/2 * sum (sqrt(p) - sqrt(q))^2), in [0, 1].

Bounded, symmetric and defined with empty bins (no smoothing needed, unlike PSI). Numeric data
uses ten reference-decile bins. No p-value.
Sketch form: bounded by the corner interval of `divergence.py`.
"""

from __future__ import annotations

import math

import numpy as np

from watchkeeper.detectors.drift import divergence
from watchkeeper.detectors.drift.base import (
    CATEGORICAL_TYPES,
    NUMERIC_TYPES,
    Direction,
    DriftMethod,
    Statistic,
)
from watchkeeper.detectors.drift.samples import CategoricalCounts, NumericBins, NumericSample


def term(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (np.sqrt(p) - np.sqrt(q)) ** 2 / 2


def _distance(half_sum: float) -> float:
    return math.sqrt(min(max(half_sum, 0.0), 1.0))


def _hellinger(counts: CategoricalCounts | NumericBins) -> Statistic:
    p, q = divergence.fractions(counts)
    return Statistic(_distance(float(term(p, q).sum())))


def on_bins(bins: NumericBins) -> Statistic:
    return _hellinger(bins.coarsen(divergence.N_BINS))


def on_sample(ref: NumericSample, cur: NumericSample) -> Statistic:
    return _hellinger(divergence.numeric_bins(ref, cur))


def sketch_bound(bins: NumericBins) -> float:
    return divergence.sketch_bound(bins, term, _distance)


METHOD = DriftMethod(
    id="hellinger",
    name="Hellinger distance",
    feature_types=NUMERIC_TYPES | CATEGORICAL_TYPES,
    default_threshold=0.1,
    direction=Direction.STATISTIC_AT_LEAST,
    summary="Hellinger distance of binned distributions, in [0, 1]",
    on_sample=on_sample,
    on_bins=on_bins,
    on_counts=_hellinger,
    sketch_bound=sketch_bound,
)
