"""The one effect size every drift result carries, whatever the method.

It is the Wasserstein-1 (earth mover's) distance between the two distributions, measured
- for numeric features, in units of the reference standard deviation: a mean shift of 0.1 sd
  gives 0.1; moving 2% of the values by 5 sd gives 0.1;
- for categorical features, with the 0/1 distance between categories, which makes it the total
  variation distance (the share of probability mass that moved): 0.03 = 3% of rows changed
  category.
Both read as "how much of the distribution moved, and how far", so one `min_effect` applies to
every method: a 0.01-sd shift in ten million rows is highly significant and still not drift.
"""

from __future__ import annotations

import math

import numpy as np

from watchkeeper.detectors.drift.samples import CategoricalCounts, NumericBins, NumericSample

MAX_QUANTILE_GRID = 1 << 22  # beyond this the quantile grid is already finer than needed


def scale(
    ref_mean: float, ref_sd: float, n_ref: float, cur_mean: float, cur_sd: float, n_cur: float
) -> float:
    """Reference sd; for a constant reference, the pooled sd of both samples (0 if both are
    the same constant, in which case the distance is 0 too and the effect is 0)."""
    if ref_sd > 0:
        return ref_sd
    total = n_ref + n_cur
    mean = (n_ref * ref_mean + n_cur * cur_mean) / total
    var = (
        n_ref * (ref_sd**2 + (ref_mean - mean) ** 2) + n_cur * (cur_sd**2 + (cur_mean - mean) ** 2)
    ) / total
    return math.sqrt(max(var, 0.0))


def _normalised(distance: float, s: float) -> float:
    return distance / s if s > 0 else 0.0


def wasserstein_sorted(ref: np.ndarray, cur: np.ndarray) -> float:
    """W1 between two sorted samples as the integral of |Q_ref(u) - Q_cur(u)| over u in (0, 1).

    Both quantile functions are step functions with steps at multiples of 1/n and 1/m, so on a
    grid of lcm(n, m) equal cells the integrand is constant per cell and the midpoint sum is
    exact. Where lcm(n, m) is too large, a grid of g cells is off by at most
    (range_ref + range_cur) / g (each cell misses at most the rise of Q inside it). No merge of
    the two samples is needed, which is what keeps this cheap next to scipy's sort of the union.
    """
    n, m = ref.size, cur.size
    if n == m:
        return float(np.abs(ref - cur).mean())
    g = math.lcm(n, m)
    if g > max(MAX_QUANTILE_GRID, n, m):
        g = min(MAX_QUANTILE_GRID, 4 * max(n, m))
    mid = (np.arange(g, dtype=np.float64) + 0.5) / g
    return float(np.abs(ref[(mid * n).astype(np.int64)] - cur[(mid * m).astype(np.int64)]).mean())


def wasserstein_bins(bins: NumericBins) -> float:
    """W1 with each CDF linear inside each bin: the integral of |D| where D = F_ref - F_cur goes
    linearly from its value at one edge to the next (no data at or below e0, all at or below e_B).
    """
    fr = np.concatenate(([0.0], np.cumsum(bins.ref_fractions)))
    fc = np.concatenate(([0.0], np.cumsum(bins.cur_fractions)))
    d = fr - fc
    a, b, w = d[:-1], d[1:], np.diff(bins.edges)
    same_sign = a * b >= 0
    total = np.abs(a) + np.abs(b)
    safe = np.where(total > 0, total, 1.0)
    area = np.where(same_sign, w * total / 2, w * (a * a + b * b) / (2 * safe))
    return float(area.sum())


def numeric_scale(bins: NumericBins) -> float:
    return scale(
        bins.ref_mean,
        bins.ref_sd,
        bins.ref_counts.sum(),
        bins.cur_mean,
        bins.cur_sd,
        bins.cur_counts.sum(),
    )


def effect_from_samples(ref: NumericSample, cur: NumericSample) -> float:
    s = scale(ref.mean, ref.sd, ref.n, cur.mean, cur.sd, cur.n)
    return _normalised(wasserstein_sorted(ref.values, cur.values), s)


def effect_from_bins(bins: NumericBins) -> float:
    return _normalised(wasserstein_bins(bins), numeric_scale(bins))


def effect_from_counts(counts: CategoricalCounts) -> float:
    """Total variation distance: half the L1 distance between category frequencies."""
    p = counts.ref / counts.ref.sum()
    q = counts.cur / counts.cur.sum()
    return float(np.abs(p - q).sum() / 2)
