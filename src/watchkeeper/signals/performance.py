"""Profiles and labelled events -> performance, calibration, latency and prediction-drift signals.

* Prediction drift: the model's outputs (predicted class or value, and the score) through the
  same drift routine as features, as one family for the multiple-testing correction.
* Estimated performance (label-free, binary classifiers with probabilities): CBPE fitted on the
  labelled reference, applied to the window's score distribution. A profile holds the scores as
  a quantile sketch, and every CBPE estimate depends on the scores only through their
  distribution, so `PSEUDO_ROWS` mid-quantiles stand in for the rows and the sampling error is
  that of the window's real size.
* Realised performance once labels joined: KPI bounds from the policy (overall and per segment),
  the primary metric against the reference's (ROC AUC for binary with a Hanley-McNeil standard
  error; accuracy for multiclass, binomial; MAE for regression, from the spread of the errors),
  and calibration (ECE against `calibration.max_ece`, with the reliability bins).
* Latency: the window's p50/p95/p99 from its latency sketch against `latency_p*_ms` KPIs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from watchkeeper.core.enums import FeatureType, SignalKind, Task
from watchkeeper.core.errors import InputError
from watchkeeper.core.records import Signal
from watchkeeper.detectors.drift import DriftRules, decide
from watchkeeper.detectors.performance import (
    CBPE,
    classification_metrics,
    kpi_check,
    latency_vs_budget,
    metric_change,
    regression_metrics,
)
from watchkeeper.detectors.performance.cbpe import METRICS as CBPE_METRICS
from watchkeeper.detectors.severity import severity
from watchkeeper.policy.models import ModelPolicy
from watchkeeper.policy.signals import SignalSettings
from watchkeeper.profiles import NumericProfile, WindowProfile
from watchkeeper.signals.convert import finite, from_performance, json_safe
from watchkeeper.signals.drift import drift_signals, measure_column

PSEUDO_ROWS = 2_000
ESTIMATE_MIN_DROP = 0.03  # an estimated drop of 3 points (accuracy, F1, AUC) is worth a look
REALISED_MIN_DROP = {"roc_auc": 0.03, "accuracy": 0.03}
REGRESSION_MIN_RISE = 0.1  # MAE 10% above the reference's
LATENCY_KPIS = {"latency_p50_ms": "p50", "latency_p95_ms": "p95", "latency_p99_ms": "p99"}
DEFAULT_ESTIMATED = ("roc_auc", "accuracy")


@dataclass(frozen=True, slots=True)
class Labelled:
    """The window's events that have a label: true values, the model's outputs, segments.

    Binary: ``y_true`` 0/1 and ``score`` the probability of class 1. Multiclass: ``y_pred``
    labels (no per-class scores are logged). Regression: ``y_pred`` numbers.
    """

    y_true: np.ndarray
    score: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    segments: dict[str, np.ndarray] | None = None

    @property
    def n(self) -> int:
        return int(self.y_true.size)


@dataclass(frozen=True, slots=True)
class ReferenceBaseline:
    """What the labelled reference says: a fitted CBPE and the realised primary metric."""

    cbpe: CBPE | None
    metric: str | None
    value: float | None
    threshold: float = 0.5  # the model's decision threshold, as its reference rows show it


def binary_targets(values: Sequence[object], classes: Sequence[object] | None) -> np.ndarray:
    """0/1 from labels: the policy's ``classes`` (the second is the positive class), else
    1/0, true/false."""
    texts = [str(v).lower() for v in values]
    if classes and len(classes) == 2:
        positive = str(classes[1]).lower()
        negative = str(classes[0]).lower()
    else:
        positive, negative = ("1", "0") if set(texts) <= {"0", "1", "1.0", "0.0"} else (
            "true", "false")
    out = np.empty(len(texts), dtype=np.int8)
    for i, t in enumerate(texts):
        if t in (positive, positive + ".0"):
            out[i] = 1
        elif t in (negative, negative + ".0"):
            out[i] = 0
        else:
            raise InputError(f"label {values[i]!r} is neither class", field="label", row=i,
                             expected=f"{negative!r} or {positive!r} (schema classes)")
    return out


def prediction_drift(
    model: ModelPolicy, settings: SignalSettings, reference: WindowProfile, current: WindowProfile
) -> list[Signal]:
    measured = []
    for name, ref, cur in (("prediction", reference.prediction, current.prediction),
                           ("score", reference.confidence, current.confidence)):
        if ref is None or cur is None:
            continue
        kind = FeatureType.NUMERIC if isinstance(ref, NumericProfile) else FeatureType.CATEGORICAL
        m = measure_column(name, kind, ref, cur, settings.drift)
        if m is not None:
            measured.append(m)
    if not measured:
        return []
    d = settings.drift
    report = decide(measured, DriftRules(min_effect=d.min_effect, correction=d.correction,
                                         drift_share=d.dataset_share))
    return drift_signals(report, d, kind=SignalKind.PREDICTION_DRIFT)


def estimated_performance(
    model: ModelPolicy, settings: SignalSettings, baseline: ReferenceBaseline | None,
    current: WindowProfile,
) -> list[Signal]:
    if (settings.performance.estimate != "cbpe" or baseline is None or baseline.cbpe is None
            or current.confidence is None or current.confidence.count == 0):
        return []
    scores = current.confidence
    m = min(scores.count, PSEUDO_ROWS)
    pseudo = np.clip(scores.quantiles((np.arange(m) + 0.5) / m), 0.0, 1.0)
    wanted = [k.metric for k in model.kpis if k.metric in CBPE_METRICS] or list(DEFAULT_ESTIMATED)
    out = []
    estimates = baseline.cbpe.estimate(pseudo, n_rows=scores.count)
    for metric in wanted:
        est = estimates[metric]
        ref = baseline.cbpe.reference_metrics[metric]
        if est.value is None or ref.value is None:
            continue
        se = math.hypot(est.standard_error or 0.0, ref.standard_error or 0.0)
        r = metric_change(metric, ref.value, est.value, min_drop=ESTIMATE_MIN_DROP,
                          standard_error=se, method="cbpe", interval=est.interval)
        out.append(from_performance(r, SignalKind.ESTIMATED_PERFORMANCE))
        kpi = model.kpi(metric)
        if kpi is not None and kpi.min is not None:
            k = kpi_check(metric, est.value, minimum=kpi.min, method="cbpe")
            out.append(from_performance(k, SignalKind.ESTIMATED_PERFORMANCE))
    return out


def realised_performance(
    model: ModelPolicy, settings: SignalSettings, labelled: Labelled | None,
    baseline: ReferenceBaseline | None,
) -> list[Signal]:
    if labelled is None or labelled.n < settings.performance.min_labels:
        return []
    task = Task(model.task)
    out: list[Signal] = []
    threshold = baseline.threshold if baseline is not None else 0.5
    overall, by_segment = _metrics(task, labelled, threshold)
    masks = {"": np.ones(labelled.n, dtype=bool), **_segment_masks(labelled)}
    for kpi in model.kpis:
        if kpi.metric in LATENCY_KPIS:
            continue
        for seg_name, values in (("", overall), *by_segment.items()):
            value = values.get(kpi.metric)
            if value is None:
                continue
            se = _standard_error(kpi.metric, value, labelled, masks.get(seg_name), threshold)
            for bound, key in ((kpi.min, "minimum"), (kpi.max, "maximum")):
                if bound is None:
                    continue
                r = kpi_check(kpi.metric, value, **{key: bound}, segment=seg_name or None,
                              standard_error=se)
                out.append(from_performance(r, SignalKind.PERFORMANCE))
    out += _against_reference(task, labelled, overall, baseline)
    if task is Task.BINARY_CLASSIFICATION and labelled.score is not None:
        out.append(_calibration(labelled, settings))
    return out


def latency(model: ModelPolicy, current: WindowProfile) -> list[Signal]:
    if current.latency is None or current.latency.count == 0:
        return []
    budgets = {LATENCY_KPIS[k.metric]: k.max for k in model.kpis
               if k.metric in LATENCY_KPIS and k.max is not None}
    if not budgets:
        return []
    values = current.latency.quantiles([0.5, 0.95, 0.99])
    percentiles = dict(zip(("p50", "p95", "p99"), map(float, values), strict=True))
    return [from_performance(r, SignalKind.LATENCY)
            for r in latency_vs_budget(percentiles, budgets, n=current.latency.count)]


# -- helpers -------------------------------------------------------------------------------------


def _segment_masks(data: Labelled) -> dict[str, np.ndarray]:
    return {f"{tag}={name}": np.asarray(values) == name
            for tag, values in (data.segments or {}).items()
            for name in np.unique(np.asarray(values))}


def _standard_error(metric: str, value: float, data: Labelled, mask: np.ndarray | None,
                    threshold: float) -> float | None:
    """The sampling error of a metric on the rows in `mask` (normal approximations: binomial
    for rates, over the rows each rate is a share of; Hanley-McNeil for ROC AUC). None where
    no cheap approximation exists: then a KPI breach is taken at face value."""
    if mask is None or data.score is None or not mask.any():
        return None
    y = np.asarray(data.y_true)[mask].astype(bool)
    hit = np.asarray(data.score)[mask] >= threshold
    pos, pred = int(y.sum()), int(hit.sum())
    trials = {"accuracy": int(mask.sum()), "recall": pos, "precision": pred,
              "f1": (pos + pred) / 2}.get(metric)
    if metric == "roc_auc":
        return _hanley_mcneil(value, pos, int(mask.sum()) - pos)
    if trials is None:
        return None
    if trials <= 0:
        return math.inf
    return math.sqrt(max(value * (1 - value), 1.0 / trials) / trials)


def _metrics(task: Task, data: Labelled, threshold: float = 0.5
             ) -> tuple[dict[str, float | None], dict[str, dict]]:
    segs = data.segments or {}
    if task is Task.BINARY_CLASSIFICATION and data.score is not None:
        report = classification_metrics(data.y_true, data.score, threshold=threshold)
        overall = _binary_dict(report.overall)
        by = {}
        for tag, values in segs.items():
            seg_report = classification_metrics(data.y_true, data.score, segments=values,
                                                threshold=threshold)
            for name, m in seg_report.by_segment.items():
                by[f"{tag}={name}"] = _binary_dict(m)
        return overall, by
    if task is Task.REGRESSION and data.y_pred is not None:
        rep = regression_metrics(data.y_true, data.y_pred)
        by = {}
        for tag, values in segs.items():
            for name, m in regression_metrics(data.y_true, data.y_pred,
                                              segments=values).by_segment.items():
                by[f"{tag}={name}"] = m.as_dict()
        return rep.overall.as_dict(), by
    if data.y_pred is not None:  # classes only: accuracy is what can be said
        hit = np.asarray(data.y_true).astype(str) == np.asarray(data.y_pred).astype(str)
        return {"accuracy": float(hit.mean())}, {}
    return {}, {}


def _binary_dict(m) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    d = m.as_dict()
    d["positive_rate"] = m.positive_rate
    return d


def _against_reference(
    task: Task, data: Labelled, overall: dict[str, float | None],
    baseline: ReferenceBaseline | None,
) -> list[Signal]:
    if baseline is None or baseline.metric is None or baseline.value is None:
        return []
    metric, ref = baseline.metric, baseline.value
    cur = overall.get(metric)
    if cur is None:
        return []
    n = data.n
    if metric == "roc_auc":
        pos = int(np.sum(data.y_true))
        se = _hanley_mcneil(cur, pos, n - pos)
        r = metric_change(metric, ref, cur, min_drop=REALISED_MIN_DROP[metric], standard_error=se)
    elif metric == "accuracy":
        se = math.sqrt(max(cur * (1 - cur), 1e-12) / n)
        r = metric_change(metric, ref, cur, min_drop=REALISED_MIN_DROP[metric], standard_error=se)
    else:  # mae: the mean of |error|, whose spread gives its standard error
        assert data.y_pred is not None
        err = np.abs(np.asarray(data.y_pred, float) - np.asarray(data.y_true, float))
        se = float(err.std(ddof=1) / math.sqrt(n)) if n > 1 else None
        r = metric_change(metric, ref, cur, min_drop=max(REGRESSION_MIN_RISE * ref, 1e-12),
                          standard_error=se)
    return [from_performance(r, SignalKind.PERFORMANCE)]


def _hanley_mcneil(auc: float, pos: int, neg: int) -> float:
    """Standard error of an AUC (Hanley & McNeil, 1982)."""
    if pos == 0 or neg == 0:
        return math.inf
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (pos - 1) * (q1 - auc**2) + (neg - 1) * (q2 - auc**2)) / (pos * neg)
    return math.sqrt(max(var, 1e-12))


def _calibration(data: Labelled, settings: SignalSettings) -> Signal:
    cal = settings.calibration
    m = classification_metrics(data.y_true, data.score, n_bins=cal.bins).overall
    worst = max((b for b in m.reliability if b.count), key=lambda b: abs(
        (b.mean_confidence or 0) - (b.observed or 0)))
    return Signal(
        kind=SignalKind.CALIBRATION, method="ece", severity=severity(m.ece, cal.max_ece),
        statistic=finite(m.ece), effect_size=finite(m.ece), threshold=cal.max_ece,
        evidence=(f"expected calibration error {m.ece:.3f} over {m.n:,} labelled events "
                  f"(limit {cal.max_ece:g}); worst bin {worst.lower:.1f}-{worst.upper:.1f}: "
                  f"predicted {worst.mean_confidence:.2f}, observed {worst.observed:.2f}."),
        details=json_safe({"flagged": m.ece >= cal.max_ece, "bins": [
            {"lower": b.lower, "upper": b.upper, "count": b.count,
             "mean_confidence": b.mean_confidence, "observed": b.observed}
            for b in m.reliability]}),
    )
