"""Realised classification metrics, overall and per segment.

Hand-written on numpy rather than calling scikit-learn per metric because (a) one confusion
matrix and one ranking serve every metric and every segment, and (b) a degenerate segment (one
class only, no positive predictions) gets a defined ``None`` instead of an exception or a
warning; tests cross-check every value against scikit-learn.

Binary: ``y_score`` is P(class 1), predictions are ``y_score >= threshold``; precision, recall
and F1 are of class 1. Multiclass: ``y_score`` has one column per class (labels 0..k-1);
precision, recall and F1 are macro averages, ROC AUC is one-vs-rest macro.

Expected calibration error (ECE) uses ``n_bins`` equal-width bins: of P(class 1) against the
observed share of positives (binary, as scikit-learn's ``calibration_curve``), of the top-class
confidence against accuracy (multiclass). The bins are returned for a reliability diagram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.performance._validate import (
    ArrayLike,
    binary_labels,
    numbers,
    probabilities,
    same_length,
    segment_rows,
    segments_of,
)

# log loss clips probabilities as scikit-learn does (machine epsilon of float64)
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int
    mean_confidence: float | None  # mean predicted probability in the bin
    observed: float | None  # share of positives (binary) or accuracy (multiclass)


@dataclass(frozen=True, slots=True)
class ClassificationMetrics:
    n: int
    accuracy: float
    precision: float | None
    recall: float | None
    f1: float | None
    roc_auc: float | None  # None when only one class is present
    log_loss: float
    ece: float
    reliability: tuple[ReliabilityBin, ...]
    positive_rate: float  # share of class-1 labels (binary) / majority share (multiclass)

    def as_dict(self) -> dict[str, float | None]:
        """The scalar metrics by their policy names (``metric: f1``)."""
        return {
            "accuracy": self.accuracy, "precision": self.precision, "recall": self.recall,
            "f1": self.f1, "roc_auc": self.roc_auc, "log_loss": self.log_loss, "ece": self.ece,
        }


@dataclass(frozen=True, slots=True)
class ClassificationReport:
    overall: ClassificationMetrics
    by_segment: dict[str, ClassificationMetrics] = field(default_factory=dict)


def classification_metrics(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float = 0.5,
    segments: Sequence[object] | np.ndarray | None = None,
    n_bins: int = 10,
) -> ClassificationReport:
    """Metrics of labels against scores; a 2-D ``y_score`` means multiclass."""
    if not 0.0 < threshold < 1.0:
        raise InputError(f"got {threshold}", field="threshold", expected="a number in (0, 1)")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise InputError(f"got {n_bins!r}", field="n_bins", expected="a positive integer")
    score_arr = np.asarray(y_score)
    multiclass = score_arr.ndim == 2
    scores = probabilities(y_score, "y_score", ndim=2 if multiclass else 1)
    if multiclass:
        labels = numbers(y_true, "y_true")
        k = scores.shape[1]
        bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels >= k))
        if bad.size:
            raise InputError(f"label {labels[bad[0]]!r} is not a class index", field="y_true",
                             row=int(bad[0]), expected=f"integers 0..{k - 1}")
        labels = labels.astype(np.int64)
    else:
        labels = binary_labels(y_true, "y_true")
    same_length(labels, scores, "y_true", "y_score")
    if labels.size == 0:
        raise InputError("no rows", field="y_true", expected="at least one labelled row")
    seg = segments_of(segments, labels.size)

    def compute(mask: np.ndarray | slice) -> ClassificationMetrics:  # rows or all
        if multiclass:
            return _multiclass(labels[mask], scores[mask], n_bins)
        return _binary(labels[mask], scores[mask], threshold, n_bins)

    overall = compute(slice(None))
    by_segment = {}
    if seg is not None:
        for name, rows in segment_rows(seg):
            by_segment[name] = compute(rows)
    return ClassificationReport(overall=overall, by_segment=by_segment)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Mann-Whitney form of ROC AUC (ties count half); None if only one class is present."""
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def _f1(tp: float, fp: float, fn: float) -> float | None:
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _binary(y: np.ndarray, p: np.ndarray, threshold: float, n_bins: int) -> ClassificationMetrics:
    pred = p >= threshold
    pos = y == 1
    tp = float(np.sum(pred & pos))
    fp = float(np.sum(pred & ~pos))
    fn = float(np.sum(~pred & pos))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    clipped = np.clip(p, _EPS, 1 - _EPS)
    log_loss = float(-np.mean(np.where(pos, np.log(clipped), np.log1p(-clipped))))
    ece, bins = _reliability(p, pos.astype(float), n_bins)
    return ClassificationMetrics(
        n=int(y.size), accuracy=float(np.mean(pred == pos)), precision=precision, recall=recall,
        f1=_f1(tp, fp, fn), roc_auc=roc_auc(y, p), log_loss=log_loss,
        ece=ece, reliability=bins, positive_rate=float(pos.mean()),
    )


def _multiclass(y: np.ndarray, p: np.ndarray, n_bins: int) -> ClassificationMetrics:
    k = p.shape[1]
    pred = p.argmax(axis=1)
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k).astype(float)
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    present = actual > 0  # macro averages over classes that occur, as the labels define them
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(predicted > 0, tp / predicted, 0.0)
        rec = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    aucs = [roc_auc((y == c).astype(np.int8), p[:, c]) for c in range(k)]
    aucs_defined = [a for a in aucs if a is not None]
    row_p = np.clip(p[np.arange(y.size), y] / p.sum(axis=1), _EPS, 1 - _EPS)
    confidence = p.max(axis=1)
    ece, bins = _reliability(confidence, (pred == y).astype(float), n_bins)
    return ClassificationMetrics(
        n=int(y.size), accuracy=float(np.mean(pred == y)),
        precision=float(prec[present].mean()), recall=float(rec[present].mean()),
        f1=float(f1[present].mean()),
        roc_auc=float(np.mean(aucs_defined)) if len(aucs_defined) == int(present.sum()) > 1
        else None,
        log_loss=float(-np.mean(np.log(row_p))), ece=ece, reliability=bins,
        positive_rate=float(actual.max() / y.size),
    )


def _reliability(
    confidence: np.ndarray, outcome: np.ndarray, n_bins: int
) -> tuple[float, tuple[ReliabilityBin, ...]]:
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # right-closed bins (the first also holds 0), as scikit-learn's calibration_curve
    idx = np.searchsorted(edges[1:-1], confidence, side="left")
    counts = np.bincount(idx, minlength=n_bins)
    conf_sum = np.bincount(idx, weights=confidence, minlength=n_bins)
    out_sum = np.bincount(idx, weights=outcome, minlength=n_bins)
    bins = []
    ece = 0.0
    for b in range(n_bins):
        c = int(counts[b])
        mean_conf = conf_sum[b] / c if c else None
        observed = out_sum[b] / c if c else None
        if c:
            ece += c / confidence.size * abs(mean_conf - observed)  # type: ignore[operator]
        bins.append(ReliabilityBin(float(edges[b]), float(edges[b + 1]), c,
                                   None if mean_conf is None else float(mean_conf),
                                   None if observed is None else float(observed)))
    return float(ece), tuple(bins)
