"""The names a policy may use: drift methods, KPI metrics, playbook actions. Explicit lists,
one place each, so an error can always say what was expected."""

from __future__ import annotations

from watchkeeper.core.enums import FeatureType, Task

# --- drift methods ------------------------------------------------------------------------------

# TODO(policy): remove this fallback once watchkeeper.detectors.drift.METHODS lands; the
# detectors' catalogue is the one source of truth for method ids.
_FALLBACK_DRIFT_METHODS: dict[str, tuple[FeatureType, ...]] = {
    "ks": (FeatureType.NUMERIC,),
    "psi": (FeatureType.NUMERIC, FeatureType.CATEGORICAL),
    "jensenshannon": (FeatureType.NUMERIC, FeatureType.CATEGORICAL),
    "wasserstein": (FeatureType.NUMERIC,),
    "chisquare": (FeatureType.CATEGORICAL,),
    "hellinger": (FeatureType.NUMERIC, FeatureType.CATEGORICAL),
    "cramervonmises": (FeatureType.NUMERIC,),
    "andersondarling": (FeatureType.NUMERIC,),
}

AUTO = "auto"  # let signals/ pick the method from the feature type and sample size


def drift_methods() -> dict[str, tuple[FeatureType, ...]]:
    """Method id -> feature types it applies to, read from the detectors' catalogue."""
    try:
        from watchkeeper.detectors.drift import METHODS  # type: ignore[attr-defined]
    except ImportError:
        return _FALLBACK_DRIFT_METHODS
    return {name: _applies_to(name, entry) for name, entry in METHODS.items()}


def _applies_to(name: str, entry: object) -> tuple[FeatureType, ...]:
    for attr in ("feature_types", "types", "kinds"):
        declared = getattr(entry, attr, None)
        if declared:
            return tuple(FeatureType(str(getattr(t, "value", t))) for t in declared)
    return _FALLBACK_DRIFT_METHODS.get(name, (FeatureType.NUMERIC, FeatureType.CATEGORICAL))


def drift_methods_for(ftype: FeatureType) -> list[str]:
    return sorted(m for m, types in drift_methods().items() if ftype in types)


# --- KPI metrics --------------------------------------------------------------------------------

# Any task: operational metrics computed from events without labels.
OPERATIONAL_METRICS = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate")

METRICS: dict[Task, tuple[str, ...]] = {
    Task.BINARY_CLASSIFICATION: (
        "accuracy", "f1", "precision", "recall", "balanced_accuracy", "roc_auc", "pr_auc",
        "log_loss", "brier", "ece", "positive_rate", *OPERATIONAL_METRICS,
    ),
    Task.MULTICLASS_CLASSIFICATION: (
        "accuracy", "f1_macro", "f1_weighted", "precision_macro", "recall_macro",
        "balanced_accuracy", "log_loss", "ece", *OPERATIONAL_METRICS,
    ),
    Task.REGRESSION: ("mae", "rmse", "mse", "mape", "median_ae", "r2", *OPERATIONAL_METRICS),
}

ALL_METRICS: frozenset[str] = frozenset(m for ms in METRICS.values() for m in ms)

# Metrics where larger is better; the rest (losses, errors, latency) are better when smaller.
HIGHER_IS_BETTER: frozenset[str] = frozenset({
    "accuracy", "f1", "precision", "recall", "balanced_accuracy", "roc_auc", "pr_auc",
    "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "r2",
})

# --- playbook actions -----------------------------------------------------------------------------

# The mitigation stage implements exactly these (its ACTIONS catalogue is checked against this
# list in its tests); the policy cannot import mitigation, which sits above it.
ACTIONS: dict[str, str] = {
    "notify": "send the incident to the tier's routes and RACI people (always implied)",
    "page": "page the responsible on-call person (PagerDuty-type channels)",
    "human_review": "open a review task; nothing changes until a person decides",
    "retrain": "retrain on recent data in a sandbox, gate, then roll out in stages",
    "rollback": "route traffic back to the previous model version",
    "kill_switch": "stop serving the model; traffic goes to the model's fallback",
    "quarantine": "hold back suspect input data from retraining and scoring",
    "freeze": "pause automatic promotions and retraining for the model",
}
