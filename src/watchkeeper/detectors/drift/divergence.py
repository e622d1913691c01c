"""Shared pieces of the methods that compare two histograms (PSI, Jensen-Shannon, Hellinger,
chi-square): bin fractions, and an error bound for their sketch form.

Each of these statistics is a sum over bins of a term t(p, q) of the reference fraction p and the
current fraction q that is zero when p == q and grows monotonically as (p, q) moves away from the
diagonal (all four are f-divergences or, for chi-square, a quadratic-over-linear form; their
partial derivatives have the sign of p - q). A sketch gives each CDF value within its rank error
eps, so each bin fraction is within 2*eps. Over that box, t is largest at a corner and smallest at
a corner, or 0 where the box touches the diagonal: so evaluating the four corners gives an
interval that surely holds the statistic of the raw data on the same grid. The bound is that
interval's half-width around the sketch value, worst side.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from watchkeeper.detectors.drift.base import (
    CATEGORICAL_TYPES,
    NUMERIC_TYPES,
    Direction,
    DriftMethod,
    Statistic,
)
from watchkeeper.detectors.drift.samples import CategoricalCounts, NumericBins, NumericSample

# Numeric data is compared on ten bins of equal reference mass: the number that PSI's
# 0.1 / 0.25 rules of thumb were calibrated on, kept for every histogram method so that their
# thresholds read the same on raw data and on a profile's finer grid.
N_BINS = 10

Term = Callable[[np.ndarray, np.ndarray], np.ndarray]


def numeric_bins(ref: NumericSample, cur: NumericSample) -> NumericBins:
    return NumericBins.from_samples(ref, cur, N_BINS)


def fractions(counts: CategoricalCounts | NumericBins) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(counts, NumericBins):
        return counts.ref_fractions, counts.cur_fractions
    return counts.ref / counts.ref.sum(), counts.cur / counts.cur.sum()


def term_interval(
    term: Term, p: np.ndarray, q: np.ndarray, dp: float, dq: float
) -> tuple[float, float]:
    """Interval of sum(term(p', q')) over |p' - p| <= dp, |q' - q| <= dq (fractions in [0, 1])."""
    corners = [
        term(np.clip(pc, 0.0, 1.0), np.clip(qc, 0.0, 1.0))
        for pc in (p - dp, p + dp)
        for qc in (q - dq, q + dq)
    ]
    stacked = np.vstack(corners)
    touches_diagonal = (p - dp <= q + dq) & (q - dq <= p + dp)
    low = np.where(touches_diagonal, 0.0, stacked.min(axis=0))
    return float(low.sum()), float(stacked.max(axis=0).sum())


def sketch_bound(bins: NumericBins, term: Term, transform: Callable[[float], float]) -> float:
    """Largest distance from the sketch statistic to any statistic inside the corner interval."""
    bins = bins.coarsen(N_BINS)
    p, q = bins.ref_fractions, bins.cur_fractions
    value = transform(float(term(p, q).sum()))
    lo, hi = term_interval(term, p, q, 2 * bins.ref_rank_error, 2 * bins.cur_rank_error)
    return max(transform(hi) - value, value - transform(max(lo, 0.0)), 0.0)


def root_distance_method(*, id: str, name: str, summary: str, term: Term) -> DriftMethod:
    """A distance that is the square root of a summed per-bin divergence, clipped to [0, 1]
    (Hellinger, Jensen-Shannon): everything but `term` is the same, so it is written once."""

    def distance(total: float) -> float:
        return math.sqrt(min(max(total, 0.0), 1.0))

    def on_counts(counts: CategoricalCounts | NumericBins) -> Statistic:
        p, q = fractions(counts)
        return Statistic(distance(float(term(p, q).sum())))

    return DriftMethod(
        id=id,
        name=name,
        feature_types=NUMERIC_TYPES | CATEGORICAL_TYPES,
        default_threshold=0.1,
        direction=Direction.STATISTIC_AT_LEAST,
        summary=summary,
        on_sample=lambda ref, cur: on_counts(numeric_bins(ref, cur)),
        on_bins=lambda bins: on_counts(bins.coarsen(N_BINS)),
        on_counts=on_counts,
        sketch_bound=lambda bins: sketch_bound(bins, term, distance),
    )
