"""Jensen-Shannon distance (base 2): sqrt of the mean KL divergence of each distribution from
their mixture. In [0, 1], symmetric, a metric; equals `scipy.spatial.distance.jensenshannon(p, q,
base=2)`. Numeric data uses ten reference-decile bins. No p-value.
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


def _xlogx_over(x: np.ndarray, mix: np.ndarray) -> np.ndarray:
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, x * np.log(safe / np.where(mix > 0, mix, 1.0)), 0.0)


def term(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per-bin Jensen-Shannon divergence in bits."""
    mix = (p + q) / 2
    return (_xlogx_over(p, mix) + _xlogx_over(q, mix)) / (2 * math.log(2))


def _distance(divergence_bits: float) -> float:
    return math.sqrt(min(max(divergence_bits, 0.0), 1.0))


def _js(counts: CategoricalCounts | NumericBins) -> Statistic:
    p, q = divergence.fractions(counts)
    return Statistic(_distance(float(term(p, q).sum())))


def on_bins(bins: NumericBins) -> Statistic:
    return _js(bins.coarsen(divergence.N_BINS))


def on_sample(ref: NumericSample, cur: NumericSample) -> Statistic:
    return _js(divergence.numeric_bins(ref, cur))


def sketch_bound(bins: NumericBins) -> float:
    return divergence.sketch_bound(bins, term, _distance)


METHOD = DriftMethod(
    id="jensenshannon",
    name="Jensen-Shannon distance",
    feature_types=NUMERIC_TYPES | CATEGORICAL_TYPES,
    default_threshold=0.1,
    direction=Direction.STATISTIC_AT_LEAST,
    summary="square root of the JS divergence (base 2) of binned distributions, in [0, 1]",
    on_sample=on_sample,
    on_bins=on_bins,
    on_counts=_js,
    sketch_bound=sketch_bound,
)
