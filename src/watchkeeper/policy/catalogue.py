"""The names a policy may use: drift methods, KPI metrics, playbook actions. Explicit lists,
one place each, so an error can always say what was expected."""

from __future__ import annotations

from watchkeeper.core.enums import FeatureType, Task
from watchkeeper.detectors.drift import METHODS

# --- drift methods ------------------------------------------------------------------------------

AUTO = "auto"  # let signals/ pick the method (detectors.drift.default_method)


def drift_methods() -> dict[str, frozenset[FeatureType]]:
    """Method id -> feature types it accepts, from the detectors' catalogue (the one source)."""
    return {name: method.feature_types for name, method in METHODS.items()}


def drift_methods_for(ftype: FeatureType) -> list[str]:
    """Method ids accepting `ftype`, in catalogue order."""
    return [name for name, method in METHODS.items() if method.accepts(ftype)]


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
    "recalibrate_threshold": "re-choose the decision threshold on recent labels, roll out as a "
    "new version",
}
