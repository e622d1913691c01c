"""Profiles -> the drift routine's sketch inputs, and its verdicts -> `Signal`s.

Numeric features are compared on a grid of reference quantiles (`N_BINS` bins, widened to the
range of both windows); both sides' counts come from their KLL sketches' CDF, so the routine
receives the rank errors and reports its `sketch_bound`. Categorical features are compared on
frequent-items counts. The routine (detectors.drift) applies the multiple-testing correction,
the minimum-effect rule and dataset drift, so "drifted" means here what it means in
`watchkeeper drift`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from watchkeeper.core.enums import FeatureType, SignalKind
from watchkeeper.core.records import Signal
from watchkeeper.detectors.drift import (
    CategoricalCounts,
    DriftReport,
    DriftRules,
    Measurement,
    NumericBins,
    decide,
    default_method,
    get_method,
    measure,
)
from watchkeeper.detectors.drift.base import Direction
from watchkeeper.detectors.severity import drift_severity, severity
from watchkeeper.policy.catalogue import AUTO
from watchkeeper.policy.signals import DriftSettings
from watchkeeper.profiles import CategoricalProfile, NumericProfile
from watchkeeper.profiles.window import ColumnProfile
from watchkeeper.signals.convert import finite, json_safe

# 200 reference-quantile bins: the largest bin holds 0.5% of the reference, which bounds how far
# the binned KS statistic can sit below the raw one (see detectors/drift/ks.py).
N_BINS = 200
NUMERIC = (FeatureType.NUMERIC, FeatureType.DATETIME)
# CDF gap forgiven before it counts as change, as a fraction of the sum of both sketches' 99%
# single-rank error bounds (0.0133 each for KLL k=200, so 0.0066 in all). Measured over a
# 199-point grid, one sketch's largest CDF error was about 0.007 (0.55 of its bound) at 3k, 20k
# and 200k values. On 80 windows of 3,000 values against a 20,000-value reference, KS on the
# sketches flagged an unchanged feature in 19% of windows (raw data: 7.5%); with this slack 5%,
# while a 0.1-sd shift was still found in 78 of 80 windows (raw data: 80).
SKETCH_NOISE = 0.25


def numeric_bins(
    ref: NumericProfile, cur: NumericProfile, n_bins: int = N_BINS, *, deflate: bool = True
) -> NumericBins:
    """Both sketches' counts on the reference's quantile grid.

    With ``deflate``, CDF gaps that sketch error alone could produce are taken out first (see
    `SKETCH_NOISE`), so that the tests do not read the sketches' own noise as drift.
    """
    lo, hi = min(ref.min, cur.min), max(ref.max, cur.max)
    interior = np.unique(ref.quantiles(np.arange(1, n_bins) / n_bins))
    interior = interior[(interior > lo) & (interior < hi)]
    edges = np.concatenate(([lo], interior, [hi]))
    ref_cdf, cur_cdf = ref.cdf(interior), cur.cdf(interior)
    if deflate:
        slack = SKETCH_NOISE * (ref.rank_error + cur.rank_error)
        gap = cur_cdf - ref_cdf
        cur_cdf = ref_cdf + np.sign(gap) * np.maximum(np.abs(gap) - slack, 0.0)
    return NumericBins.from_cdf(
        edges, ref_cdf, cur_cdf, n_ref=ref.count, n_cur=cur.count,
        ref_mean=ref.mean, ref_sd=_sd(ref), cur_mean=cur.mean, cur_sd=_sd(cur),
        ref_rank_error=ref.rank_error, cur_rank_error=cur.rank_error,
    )


def categorical_counts(ref: CategoricalProfile, cur: CategoricalProfile) -> CategoricalCounts:
    return CategoricalCounts.from_dicts(ref.counts(), cur.counts())


def measure_column(
    name: str, kind: FeatureType, ref: ColumnProfile, cur: ColumnProfile,
    settings: DriftSettings, method: str | None = None,
) -> Measurement | None:
    """One column measured, or None when either side has no values (quality's business)."""
    if ref.count == 0 or cur.count == 0:
        return None
    numeric = isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile)
    if numeric:
        data: NumericBins | CategoricalCounts = numeric_bins(ref, cur)  # type: ignore[arg-type]
        type_for_method = kind if kind in NUMERIC else FeatureType.NUMERIC
    elif isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        data = categorical_counts(ref, cur)
        type_for_method = kind if kind not in NUMERIC else FeatureType.CATEGORICAL
    else:
        return None  # the column changed kind: schema change reports it
    chosen = method or (settings.numeric if numeric else settings.categorical)
    if chosen == AUTO:
        n_ref, n_cur = (data.n_ref, data.n_cur)
        chosen = default_method(type_for_method, n_ref, n_cur)
    entry = get_method(chosen)
    threshold = settings.alpha if entry.direction is Direction.P_VALUE_BELOW else None
    return measure(name, type_for_method, data, chosen, threshold)


def drift_signals(
    report: DriftReport, settings: DriftSettings, *, kind: SignalKind = SignalKind.DATA_DRIFT
) -> list[Signal]:
    out = []
    for f in report.features:
        m = f.measurement
        p = f.p_value_adjusted
        sev = drift_severity(m.effect_size, p, min_effect=settings.min_effect, alpha=settings.alpha)
        verdict = "drifted" if f.drifted else "no drift"
        test = (f"p={m.p_value:.2g} (adjusted {p:.2g}, alpha {m.threshold:g})" if p is not None
                else f"threshold {m.threshold:g}")
        evidence = (
            f"{m.feature}: {verdict} by {m.method} (statistic {m.statistic:.3g}, {test}); "
            f"effect {m.effect_size:.3f} against a minimum of {settings.min_effect:g}."
        )
        out.append(Signal(
            kind=kind, method=m.method, severity=sev, statistic=finite(m.statistic),
            p_value=finite(p if p is not None else m.p_value), effect_size=finite(m.effect_size),
            threshold=finite(m.threshold), feature=m.feature if kind is SignalKind.DATA_DRIFT
            else None, evidence=evidence,
            details=json_safe({
                "drifted": f.drifted, "significant": f.significant, "raw_p_value": m.p_value,
                "direction": m.direction.value, "n_reference": m.n_reference,
                "n_current": m.n_current, "sketch_bound": m.sketch_bound,
                "output": m.feature if kind is not SignalKind.DATA_DRIFT else None,
            }),
        ))
    return out


def feature_drift(
    types: Mapping[str, FeatureType],
    reference: Mapping[str, ColumnProfile],
    current: Mapping[str, ColumnProfile],
    settings: DriftSettings,
    methods: Mapping[str, str | None],
) -> tuple[DriftReport, list[Signal]]:
    """Every feature present on both sides; plus one dataset-level signal."""
    measured = []
    for name, kind in types.items():
        if name in reference and name in current:
            m = measure_column(name, kind, reference[name], current[name], settings,
                               methods.get(name))
            if m is not None:
                measured.append(m)
    rules = DriftRules(min_effect=settings.min_effect, correction=settings.correction,
                       drift_share=settings.dataset_share)
    report = decide(measured, rules)
    signals = drift_signals(report, settings)
    if report.features:
        drifted = [f.measurement.feature for f in report.features if f.drifted]
        share = report.drifted_share
        signals.append(Signal(
            kind=SignalKind.DATA_DRIFT, method="dataset", statistic=share,
            threshold=settings.dataset_share, effect_size=share,
            # half severity when the share reaches the dataset threshold, as for every detector
            severity=severity(share, settings.dataset_share),
            evidence=(f"{len(drifted)} of {len(report.features)} features drifted "
                      f"({share:.0%}; dataset drift at {settings.dataset_share:.0%})"
                      + (f": {', '.join(drifted[:8])}." if drifted else ".")),
            details={"dataset_drift": report.dataset_drift, "drifted_features": drifted},
        ))
    return report, signals


def _sd(p: NumericProfile) -> float:
    sd = p.std
    return 0.0 if math.isnan(sd) else sd
