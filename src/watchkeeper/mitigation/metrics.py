"""Scoring a model on labelled rows: its outputs, the policy's metrics, the decision threshold.
Pure; the metrics are scikit-learn's (the project's reference for every metric)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm

from watchkeeper.core.enums import Task
from watchkeeper.core.errors import InputError

THRESHOLDED = frozenset({"accuracy", "f1", "precision", "recall", "balanced_accuracy",
                         "positive_rate"})
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "mae", "rmse", "mse", "mape",
                             "median_ae"})
DEFAULT_METRIC = {Task.BINARY_CLASSIFICATION: "f1", Task.MULTICLASS_CLASSIFICATION: "f1_macro",
                  Task.REGRESSION: "rmse"}


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def outputs(estimator: Any, x: np.ndarray, task: Task) -> np.ndarray:
    """P(class 1) for binary, class probabilities for multiclass, values for regression."""
    if task == Task.REGRESSION:
        return np.asarray(estimator.predict(x), dtype=float)
    proba = np.asarray(estimator.predict_proba(x), dtype=float)
    return proba[:, 1] if task == Task.BINARY_CLASSIFICATION else proba


def decisions(scores: np.ndarray, task: Task, threshold: float) -> np.ndarray:
    if task == Task.BINARY_CLASSIFICATION:
        return (scores >= threshold).astype(int)
    if task == Task.MULTICLASS_CLASSIFICATION:
        return np.argmax(scores, axis=1)
    return scores


def metric(name: str, y: np.ndarray, scores: np.ndarray, task: Task,
           threshold: float = 0.5) -> float:
    """One metric by its policy name; raises InputError naming the metric if it cannot apply."""
    y = np.asarray(y)
    if y.size == 0:
        raise InputError("no labelled rows to measure on", field="metric", expected="rows")
    pred = decisions(scores, task, threshold)
    binary = task == Task.BINARY_CLASSIFICATION
    fns: dict[str, Any] = {
        "accuracy": lambda: skm.accuracy_score(y, pred),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y, pred),
        "f1": lambda: skm.f1_score(y, pred, zero_division=0),
        "precision": lambda: skm.precision_score(y, pred, zero_division=0),
        "recall": lambda: skm.recall_score(y, pred, zero_division=0),
        "positive_rate": lambda: float(np.mean(pred)),
        "roc_auc": lambda: skm.roc_auc_score(y, scores) if len(np.unique(y)) > 1 else 0.5,
        "pr_auc": lambda: skm.average_precision_score(y, scores),
        "log_loss": lambda: skm.log_loss(y, scores, labels=[0, 1] if binary else None),
        "brier": lambda: skm.brier_score_loss(y, scores),
        "ece": lambda: ece(y, scores),
        "f1_macro": lambda: skm.f1_score(y, pred, average="macro", zero_division=0),
        "f1_weighted": lambda: skm.f1_score(y, pred, average="weighted", zero_division=0),
        "precision_macro": lambda: skm.precision_score(y, pred, average="macro",
                                                       zero_division=0),
        "recall_macro": lambda: skm.recall_score(y, pred, average="macro", zero_division=0),
        "mae": lambda: skm.mean_absolute_error(y, scores),
        "mse": lambda: skm.mean_squared_error(y, scores),
        "rmse": lambda: float(np.sqrt(skm.mean_squared_error(y, scores))),
        "mape": lambda: skm.mean_absolute_percentage_error(y, scores),
        "median_ae": lambda: skm.median_absolute_error(y, scores),
        "r2": lambda: skm.r2_score(y, scores),
    }
    if name not in fns:
        raise InputError(f"metric {name!r} cannot judge a retrained model", field="metric",
                         expected=", ".join(sorted(fns)))
    return float(fns[name]())


def ece(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error of P(class 1) in equal-width bins (binary), or of the top
    class's confidence against accuracy (multiclass)."""
    p = np.asarray(p, dtype=float)
    if p.ndim == 2:
        conf, hit = p.max(axis=1), (p.argmax(axis=1) == y).astype(float)
    else:
        conf, hit = p, np.asarray(y, dtype=float)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.sum() * abs(conf[mask].mean() - hit[mask].mean())
    return float(total / max(len(conf), 1))


def best_threshold(y: np.ndarray, p: np.ndarray, name: str = "f1") -> float:
    """The cut on P(class 1) that maximises a thresholded metric on validation rows."""
    candidates = np.unique(np.quantile(p, np.linspace(0.02, 0.98, 97)))
    if candidates.size == 0:
        return 0.5
    if name == "f1":  # vectorised: the search runs per trial and fold, sklearn per cut is slow
        y1 = np.asarray(y) == 1
        decided = p[None, :] >= candidates[:, None]
        tp = (decided & y1).sum(axis=1)
        f1 = 2 * tp / np.maximum(decided.sum(axis=1) + y1.sum(), 1)
        return float(np.clip(candidates[int(np.argmax(f1))], 1e-6, 1 - 1e-6))
    values = [metric(name, y, p, Task.BINARY_CLASSIFICATION, float(t)) for t in candidates]
    best = int(np.argmax(values))
    return float(np.clip(candidates[best], 1e-6, 1 - 1e-6))
