"""The one shared routine: measure each feature with its method, correct p-values across the
features, apply the minimum-effect rule, and decide dataset drift. Every surface (the CLI, the
signals stage, the library) goes through `measure` and `decide`, so "drifted" means the same
thing everywhere.

Drift on a feature = the method's verdict (p-value below alpha after correction, or distance at
least its threshold) AND effect size >= `min_effect` (see `effect.py`). Dataset drift = share of
drifted features >= `drift_share`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from watchkeeper.core.enums import FeatureType
from watchkeeper.core.errors import InputError
from watchkeeper.detectors.correction import Correction, adjust
from watchkeeper.detectors.drift import effect
from watchkeeper.detectors.drift.base import CATEGORICAL_TYPES, Direction, DriftMethod
from watchkeeper.detectors.drift.catalogue import get_method
from watchkeeper.detectors.drift.defaults import default_method
from watchkeeper.detectors.drift.samples import CategoricalCounts, NumericBins, NumericSample

FeatureData = tuple[NumericSample, NumericSample] | NumericBins | CategoricalCounts


@dataclass(frozen=True, slots=True)
class DriftRules:
    """The knobs that turn statistics into verdicts; every default is written here only."""

    # 0.02 = 2% of the mass moved (categorical) or a 0.02-sd shift (numeric): far above the
    # noise of any sample large enough to call significant, below any shift worth a look.
    min_effect: float = 0.02
    correction: Correction = Correction.BH
    drift_share: float = 0.5  # dataset drift when at least half the features drifted

    def __post_init__(self) -> None:
        if not self.min_effect >= 0:
            raise InputError(
                f"min_effect is {self.min_effect}", field="min_effect", expected="a number >= 0"
            )
        if not 0 < self.drift_share <= 1:
            raise InputError(
                f"drift_share is {self.drift_share}",
                field="drift_share",
                expected="a share in (0, 1]",
            )


@dataclass(frozen=True, slots=True)
class Measurement:
    """One feature measured by one method, before the cross-feature rules."""

    feature: str
    feature_type: FeatureType
    method: str
    direction: Direction
    threshold: float
    statistic: float
    p_value: float | None
    effect_size: float
    n_reference: int
    n_current: int
    sketch_bound: float | None = None  # max distance from the raw statistic (binned input only)


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    measurement: Measurement
    p_value_adjusted: float | None
    significant: bool
    drifted: bool

    def to_dict(self) -> dict[str, Any]:
        m = self.measurement
        return {
            "name": m.feature,
            "type": m.feature_type.value,
            "method": m.method,
            "statistic": m.statistic,
            "p_value": m.p_value,
            "effect_size": m.effect_size,
            "threshold": m.threshold,
            "drifted": self.drifted,
            # Beyond the contract, because `drifted` cannot be checked without them:
            "direction": m.direction.value,
            "p_value_adjusted": self.p_value_adjusted,
        }


@dataclass(frozen=True, slots=True)
class DriftReport:
    features: tuple[FeatureDrift, ...]
    dataset_drift: bool
    drifted_share: float
    n_reference: int
    n_current: int
    rules: DriftRules = field(default_factory=DriftRules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drift": self.dataset_drift,
            "drifted_share": self.drifted_share,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "features": [f.to_dict() for f in self.features],
            "min_effect": self.rules.min_effect,
            "correction": self.rules.correction.value,
            "drift_share": self.rules.drift_share,
        }


def dataset_drift(drifted: Sequence[bool], drift_share: float) -> tuple[bool, float]:
    """(dataset drift?, share of drifted features). No features: no drift, share 0."""
    if not drifted:
        return False, 0.0
    share = sum(bool(d) for d in drifted) / len(drifted)
    return share >= drift_share, share


def _sizes(data: FeatureData) -> tuple[int, int]:
    if isinstance(data, tuple):
        return data[0].n, data[1].n
    return data.n_ref, data.n_cur


def choose_method(
    feature_type: FeatureType, data: FeatureData, method_id: str | None
) -> DriftMethod:
    method = get_method(method_id or default_method(feature_type, *_sizes(data)))
    if not method.accepts(feature_type):
        raise InputError(
            f"method {method.id!r} does not accept {feature_type.value} features",
            field="method",
            expected="one of " + ", ".join(sorted(t.value for t in method.feature_types)),
        )
    return method


def measure(
    feature: str,
    feature_type: FeatureType,
    data: FeatureData,
    method_id: str | None = None,
    threshold: float | None = None,
) -> Measurement:
    """Run one method (the default for the type and size when `method_id` is None)."""
    method = choose_method(feature_type, data, method_id)
    bound = None
    if isinstance(data, CategoricalCounts):
        if feature_type not in CATEGORICAL_TYPES or method.on_counts is None:
            raise InputError(
                "category counts given for a numeric feature",
                field=feature,
                expected="numeric samples or bins",
            )
        found, size = method.on_counts(data), effect.effect_from_counts(data)
    elif isinstance(data, NumericBins):
        assert method.on_bins is not None and method.sketch_bound is not None
        found, size = method.on_bins(data), effect.effect_from_bins(data)
        bound = method.sketch_bound(data)
    else:
        assert method.on_sample is not None
        found, size = method.on_sample(*data), effect.effect_from_samples(*data)
    n_ref, n_cur = _sizes(data)
    return Measurement(
        feature=feature,
        feature_type=feature_type,
        method=method.id,
        direction=method.direction,
        threshold=method.default_threshold if threshold is None else threshold,
        statistic=float(found.statistic),
        p_value=found.p_value,
        effect_size=float(size),
        n_reference=n_ref,
        n_current=n_cur,
        sketch_bound=bound,
    )


def decide(
    measurements: Sequence[Measurement],
    rules: DriftRules | None = None,
    *,
    n_reference: int | None = None,
    n_current: int | None = None,
) -> DriftReport:
    """Correct the p-values of the hypothesis tests across features, then decide each feature
    and the dataset. Distances (no p-value) are not part of the correction family."""
    rules = rules or DriftRules()
    tested = [i for i, m in enumerate(measurements) if m.direction is Direction.P_VALUE_BELOW]
    adjusted = adjust([measurements[i].p_value or 0.0 for i in tested], rules.correction)
    adjusted_by_index = dict(zip(tested, adjusted, strict=True))
    features = []
    for i, m in enumerate(measurements):
        q = adjusted_by_index.get(i)
        significant = (q < m.threshold) if q is not None else m.statistic >= m.threshold
        drifted = significant and m.effect_size >= rules.min_effect
        features.append(FeatureDrift(m, q, bool(significant), bool(drifted)))
    is_drift, share = dataset_drift([f.drifted for f in features], rules.drift_share)
    return DriftReport(
        features=tuple(features),
        dataset_drift=is_drift,
        drifted_share=share,
        n_reference=n_reference
        if n_reference is not None
        else max((m.n_reference for m in measurements), default=0),
        n_current=n_current
        if n_current is not None
        else max((m.n_current for m in measurements), default=0),
        rules=rules,
    )


def infer_type(values: np.ndarray) -> FeatureType:
    array = np.asarray(values)
    if array.dtype.kind == "b":
        return FeatureType.BOOLEAN
    if array.dtype.kind in "iuf":
        return FeatureType.NUMERIC
    return FeatureType.CATEGORICAL


def compare(
    reference: Mapping[str, np.ndarray | list],
    current: Mapping[str, np.ndarray | list],
    *,
    methods: Mapping[str, str] | None = None,
    rules: DriftRules | None = None,
    types: Mapping[str, FeatureType] | None = None,
) -> DriftReport:
    """Library entry point on raw columns: same names on both sides, types inferred from dtypes
    (numeric dtypes are numeric, booleans boolean, anything else categorical) unless given."""
    missing = sorted(set(reference) ^ set(current))
    if missing:
        raise InputError(
            "reference and current have different columns",
            field=missing[0],
            expected="the same column names on both sides",
        )
    measurements = []
    for name in reference:
        ref, cur = np.asarray(reference[name]), np.asarray(current[name])
        kind = (types or {}).get(name) or infer_type(ref)
        data: FeatureData
        if kind in CATEGORICAL_TYPES:
            data = CategoricalCounts.from_values(ref, cur, field=name)
        else:
            data = (NumericSample.prepare(ref, field=name), NumericSample.prepare(cur, field=name))
        measurements.append(measure(name, kind, data, (methods or {}).get(name)))
    n_ref = max((len(v) for v in reference.values()), default=0)
    n_cur = max((len(v) for v in current.values()), default=0)
    return decide(measurements, rules, n_reference=n_ref, n_current=n_cur)
