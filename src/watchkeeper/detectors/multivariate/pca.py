"""Multivariate drift by PCA reconstruction error.

Principal components fitted on the reference capture how features move *together*. Rows from
the same distribution are reconstructed from those components with a typical error; rows
whose correlations or ranges changed are not. Steps:

1. Impute missing values with reference medians, standardise with reference mean and sd.
2. Split the (subsampled) reference in two with ``seed``: fit PCA keeping enough components
   for ``variance`` (default 95%) of the variance, but at most d - 1, on one half, and
   measure the baseline error on the other half, so the baseline is not flattered by in-sample
   fit.
3. Row error = mean squared reconstruction error over features. Statistic: mean current
   error / mean baseline error; effect size: that ratio - 1. The p-value is a one-sided
   Mann-Whitney U test (current errors larger). Drift needs ``p <= alpha`` and an effect of at
   least ``min_effect`` (default 0.1, i.e. 10% more error).
4. Contributors: features whose mean squared error grew most, in baseline-error units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats
from sklearn.decomposition import PCA

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.multivariate._data import (
    DEFAULT_MAX_ROWS,
    impute,
    pair,
    reference_medians,
    subsample,
)
from watchkeeper.detectors.multivariate.domain_classifier import MultivariateResult
from watchkeeper.detectors.severity import severity

METHOD = "pca_reconstruction"


def pca_reconstruction(
    reference: object,
    current: object,
    feature_names: Sequence[str],
    *,
    variance: float = 0.95,
    alpha: float = 0.05,
    min_effect: float = 0.1,
    max_rows: int = DEFAULT_MAX_ROWS,
    top: int = 5,
    seed: int = 0,
) -> MultivariateResult:
    """Compare reconstruction errors of current rows with held-out reference rows."""
    if not 0.0 < variance < 1.0:
        raise InputError(f"got {variance}", field="variance", expected="a fraction in (0, 1)")
    ref, cur, names = pair(reference, current, feature_names, min_rows=10)
    if len(names) < 2:
        raise InputError("one feature", field="feature_names",
                         expected="at least 2 features (one feature has no joint structure)")
    rng = np.random.default_rng(seed)
    ref = subsample(ref, 2 * max_rows, rng)  # both halves of the split get max_rows
    cur = subsample(cur, max_rows, rng)

    fill = reference_medians(ref)
    ref, cur = impute(ref, fill), impute(cur, fill)
    mean = ref.mean(axis=0)
    sd = ref.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)  # a constant reference column: any change is all error
    ref_z, cur_z = (ref - mean) / sd, (cur - mean) / sd

    order = rng.permutation(len(ref_z))
    half = len(order) // 2
    fit_rows, base_rows = ref_z[order[:half]], ref_z[order[half:]]
    # Keep at most d - 1 components: with every component kept the reconstruction is exact and
    # blind (independent features each explain 1/d of the variance, so 95% keeps them all).
    kept = PCA(n_components=variance, svd_solver="full").fit(fit_rows).n_components_
    pca = PCA(n_components=min(int(kept), len(names) - 1), svd_solver="full").fit(fit_rows)

    base_sq = _squared_errors(pca, base_rows)
    cur_sq = _squared_errors(pca, cur_z)
    base_err, cur_err = base_sq.mean(axis=1), cur_sq.mean(axis=1)
    base_mean = float(base_err.mean())
    cur_mean = float(cur_err.mean())
    # A reference that PCA reconstructs perfectly (features exact linear combinations) has zero
    # baseline error; a floor in standardised units keeps rounding noise from becoming a ratio.
    floor = max(base_mean, 1e-6)
    ratio = cur_mean / floor
    effect = ratio - 1.0
    p_value = float(stats.mannwhitneyu(cur_err, base_err, alternative="greater").pvalue)
    flagged = effect >= min_effect and p_value <= alpha

    growth = (cur_sq.mean(axis=0) - base_sq.mean(axis=0)) / floor
    ranked = np.argsort(-growth, kind="stable")
    contributors = tuple((names[i], float(growth[i])) for i in ranked[:top] if growth[i] > 0)
    named = ", ".join(f"{n} (+{v:.2f})" for n, v in contributors[:3]) or "none stands out"
    evidence = (
        f"PCA with {pca.n_components_} of {len(names)} components reconstructs current rows "
        f"with {ratio:.2f}x the reference error ({effect:+.0%}, p={p_value:.2g}; flags at "
        f"+{min_effect:.0%} with p<={alpha}); most changed: {named}."
    )
    return MultivariateResult(
        method=METHOD, statistic=ratio, threshold=1.0 + min_effect, effect_size=effect,
        p_value=p_value, flagged=flagged,
        severity=severity(effect, min_effect, p_value, alpha=alpha), evidence=evidence,
        contributors=contributors,
        details={"n_components": int(pca.n_components_), "reference_error": base_mean,
                 "current_error": cur_mean, "n_reference": len(ref),
                 "n_current": len(cur),
                 "feature_error_growth": {n: float(g) for n, g in zip(names, growth, strict=True)}},
    )


def _squared_errors(pca: PCA, rows: np.ndarray) -> np.ndarray:
    return (rows - pca.inverse_transform(pca.transform(rows))) ** 2
