"""Model performance: realised metrics, label-free estimates (CBPE), prediction drift, latency."""

from __future__ import annotations

from watchkeeper.detectors.performance.cbpe import CBPE, Estimate
from watchkeeper.detectors.performance.change import higher_is_better, kpi_check, metric_change
from watchkeeper.detectors.performance.classification import (
    ClassificationMetrics,
    ClassificationReport,
    ReliabilityBin,
    classification_metrics,
    roc_auc,
)
from watchkeeper.detectors.performance.latency import latency_percentiles, latency_vs_budget
from watchkeeper.detectors.performance.prediction_drift import class_drift, score_drift
from watchkeeper.detectors.performance.regression import (
    RegressionMetrics,
    RegressionReport,
    regression_metrics,
)
from watchkeeper.detectors.performance.result import PerformanceResult

__all__ = [
    "CBPE",
    "ClassificationMetrics",
    "ClassificationReport",
    "Estimate",
    "PerformanceResult",
    "RegressionMetrics",
    "RegressionReport",
    "ReliabilityBin",
    "class_drift",
    "classification_metrics",
    "higher_is_better",
    "kpi_check",
    "latency_percentiles",
    "latency_vs_budget",
    "metric_change",
    "regression_metrics",
    "roc_auc",
    "score_drift",
]
