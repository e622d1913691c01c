"""Normalised Wasserstein distance: W1(reference, current) / sd(reference).

How far, in reference standard deviations, the mass of the distribution had to move; equals
`scipy.stats.wasserstein_distance(ref, cur) / ref.std()` (for a constant reference the pooled sd
is used, see `effect.scale`). This is also the effect size of every numeric result, so this
method is "drift if the effect size >= threshold". No p-value.

Raw form: exact (or within (range_ref + range_cur) / 2**22 / sd for sizes whose lcm is huge),
see `effect.wasserstein_sorted`.
Sketch form: CDFs linear inside each bin. Against the raw W1 it is off by (a) the grid: inside
bin i both true CDFs stay between their edge values, so the true gap differs from the
interpolated one by at most r_i + c_i (true masses, <= sketched + 2 eps each), over width w_i;
(b) the sketch: every CDF value is within its rank error, so the interpolated gap moves by at
most eps_ref + eps_cur over the whole span. Together, divided by the sd:
(sum_i w_i * (r_i + c_i) + 3 * (eps_ref + eps_cur) * (e_B - e_0)) / sd.
This worst case is loose for a coarse sketch (k=200: eps = 0.0165, so about 0.1 * span / sd);
the errors measured in the tests are one to two orders of magnitude smaller.
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
    inside = float((w * (bins.ref_fractions + bins.cur_fractions)).sum())
    span = float(bins.edges[-1] - bins.edges[0])
    return (inside + 3 * (er + ec) * span) / s


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
