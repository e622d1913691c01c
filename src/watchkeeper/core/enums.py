"""Shared vocabulary. Values are the lowercase words used in YAML, JSON and the database."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class FeatureType(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    TEXT = "text"
    DATETIME = "datetime"


class Task(StrEnum):
    BINARY_CLASSIFICATION = "binary_classification"
    MULTICLASS_CLASSIFICATION = "multiclass_classification"
    REGRESSION = "regression"


class Criticality(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Tier(IntEnum):
    """T0 healthy .. T3 critical; ordered so tiers compare with < and >."""

    T0 = 0
    T1 = 1
    T2 = 2
    T3 = 3

    @classmethod
    def parse(cls, text: str) -> Tier:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown tier {text!r}; expected one of T0, T1, T2, T3") from None

    def __str__(self) -> str:
        return self.name


class SignalKind(StrEnum):
    """What a signal is about; scoring weighs each kind separately."""

    DATA_DRIFT = "data_drift"
    PERFORMANCE = "performance"  # realised performance / concept drift (needs labels)
    ESTIMATED_PERFORMANCE = "estimated_performance"  # label-free (CBPE-style)
    DATA_QUALITY = "data_quality"
    CALIBRATION = "calibration"
    LATENCY = "latency"
    LABEL_DELAY = "label_delay"
    PREDICTION_DRIFT = "prediction_drift"
    EXTERNAL = "external"  # e.g. a Prometheus Alertmanager alert


class IncidentState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    MITIGATING = "mitigating"
    RESOLVED = "resolved"
    POSTMORTEM_DONE = "postmortem_done"
    DISMISSED = "dismissed"


class Role(StrEnum):
    """Access roles for people and API tokens (not RACI roles, which the policy names)."""

    VIEWER = "viewer"
    RESPONDER = "responder"
    MODEL_OWNER = "model_owner"
    APPROVER = "approver"
    ADMIN = "admin"
