"""Population Stability Index: sum over bins of (q - p) * ln(q / p).

A symmetric KL divergence between the binned reference (p) and current (q) distributions.
Numeric data uses ten reference-decile bins; empty bins are floored at 1e-4 so the logarithm is
defined (the usual convention; it caps one empty bin's contribution at about 0.1 * ln(1000)).
Rules of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift. No p-value.
Sketch form: bounded by the corner interval of `divergence.py`.
"""

from __future__ import annotations

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

FLOOR = 1e-4


def term(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    p, q = np.maximum(p, FLOOR), np.maximum(q, FLOOR)
    return (q - p) * np.log(q / p)


def _psi(counts: CategoricalCounts | NumericBins) -> Statistic:
    p, q = divergence.fractions(counts)
    return Statistic(float(term(p, q).sum()))


def on_bins(bins: NumericBins) -> Statistic:
    return _psi(bins.coarsen(divergence.N_BINS))


def on_sample(ref: NumericSample, cur: NumericSample) -> Statistic:
    return _psi(divergence.numeric_bins(ref, cur))


def sketch_bound(bins: NumericBins) -> float:
    return divergence.sketch_bound(bins, term, lambda s: s)


METHOD = DriftMethod(
    id="psi",
    name="Population Stability Index",
    feature_types=NUMERIC_TYPES | CATEGORICAL_TYPES,
    default_threshold=0.1,
    direction=Direction.STATISTIC_AT_LEAST,
    summary="symmetric KL divergence of binned distributions; 0.1 moderate, 0.25 major",
    on_sample=on_sample,
    on_bins=on_bins,
    on_counts=_psi,
    sketch_bound=sketch_bound,
)
