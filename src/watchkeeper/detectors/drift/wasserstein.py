"""Normalised Wasserstein distance: W1(reference, current) / sd(reference).

How far, in reference standard deviations, the mass of the distribution had to move; equals
`scipy.stats.wasserstein_distance(ref, cur) / ref.std()` (for a constant reference the pooled sd
is used, see `effect.scale`). This is also the effect size of every numeric result, so this
method is "drift if the effect size >= threshold". No p-value.

Raw form: exact (or within (range_ref + range_cur) / 2**22 / sd for sizes whose lcm is huge),
see `effect.wasserstein_sorted`.
Sketch form: CDFs linear inside each bin. Inside bin i the true gap between the CDFs differs from
the interpolated one by at most r_i + c_i (both CDFs stay between their edge values), and each CDF
value is off by at most its rank error, so the bound is
(sum_i w_i * (r_i + c_i + 4 eps) + (eps_ref + eps_cur) * (e_B - e_0)) / sd.
"""

from __future__ import annotations

import numpy as np

from watchkeeper.detectors.drift import effect
from watchkeeper.detectors.drift.base import NUMERIC_TYPES, Direction, DriftMethod, Statistic
from watchkeeper.detectors.drift.samples import NumericBins, NumericSample


def on_sample(ref: NumericSample, cur: NumericSample) -> Statistic:
    return Statistic(effect.effect_from_samples(ref, cur))


def on_bins(bins: NumericBins) -> Statistic:
    return Statistic(effect.effect_from_bins(bins))


def sketch_bound(bins: NumericBins) -> float:
    s = effect.numeric_scale(bins)
    if s <= 0:
        return 0.0
    er, ec = bins.ref_rank_error, bins.cur_rank_error
    w = np.diff(bins.edges)
    inside = float((w * (bins.ref_fractions + bins.cur_fractions + 4 * (er + ec))).sum())
    span = float(bins.edges[-1] - bins.edges[0])
    return (inside + (er + ec) * span) / s


METHOD = DriftMethod(
    id="wasserstein",
    name="Normalised Wasserstein distance",
    feature_types=NUMERIC_TYPES,
    default_threshold=0.1,
    direction=Direction.STATISTIC_AT_LEAST,
    summary="earth mover's distance in reference standard deviations",
    on_sample=on_sample,
    on_bins=on_bins,
    on_counts=None,
    sketch_bound=sketch_bound,
)
