"""Label-free performance estimation for binary classifiers (confidence-based, as NannyML's CBPE).

Idea: if a model's probabilities are calibrated, each prediction carries its own chance of
being right. On the reference (where labels exist) an isotonic regression maps raw scores to
calibrated probabilities ``q``. In a new window without labels, row i is a positive with
probability ``q_i``, so the *expected* confusion matrix is

    TP = sum(q_i  | predicted 1)    FP = sum(1 - q_i | predicted 1)
    FN = sum(q_i  | predicted 0)    TN = sum(1 - q_i | predicted 0)

and accuracy, precision, recall and F1 follow from it. ROC AUC is the expected share of
(positive, negative) pairs ranked correctly: pairs (i, j) with i scored above j, weighted by
``q_i (1 - q_j)``. This holds under covariate shift (P(y | x) unchanged) — the common case
monitoring worries about — and fails under concept drift, which only labels reveal.

Sampling error: even a perfect estimate differs from the realised metric because labels are
random. We draw ``n_draws`` label vectors ``y ~ Bernoulli(q)`` (a parametric bootstrap, seeded)
and take the standard deviation of the realised metric across draws; the interval is
estimate ± 1.96 of it. Rows beyond ``max_rows`` are subsampled for the draws only and the
spread rescaled by sqrt(m / n) (the metrics are means, so their spread shrinks as 1/sqrt(n)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata
from sklearn.isotonic import IsotonicRegression

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.performance._validate import (
    ArrayLike,
    binary_labels,
    probabilities,
    same_length,
)
from watchkeeper.detectors.performance.change import metric_change
from watchkeeper.detectors.performance.result import PerformanceResult

METHOD = "cbpe"
METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Estimate:
    metric: str
    value: float | None
    standard_error: float | None
    interval: tuple[float, float] | None


class CBPE:
    """Fit on reference scores and labels, then estimate metrics of unlabelled windows.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=5000); y = (rng.uniform(size=5000) < p).astype(int)
    >>> est = CBPE().fit(p, y).estimate(p)
    >>> abs(est["accuracy"].value - 0.75) < 0.02
    True
    """

    def __init__(
        self, *, threshold: float = 0.5, n_draws: int = 200, max_rows: int = 20_000,
        seed: int = 0,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise InputError(f"got {threshold}", field="threshold", expected="a number in (0, 1)")
        if n_draws < 20:
            raise InputError(f"got {n_draws}", field="n_draws", expected="at least 20")
        if max_rows < 100:
            raise InputError(f"got {max_rows}", field="max_rows", expected="at least 100")
        self.threshold = threshold
        self.n_draws = n_draws
        self.max_rows = max_rows
        self.seed = seed
        self._calibrator: IsotonicRegression | None = None
        self.reference_metrics: dict[str, Estimate] = {}

    def fit(self, reference_scores: ArrayLike, reference_labels: ArrayLike) -> CBPE:
        scores = probabilities(reference_scores, "reference_scores")
        labels = binary_labels(reference_labels, "reference_labels")
        same_length(scores, labels, "reference_scores", "reference_labels")
        if labels.size < 100 or labels.min() == labels.max():
            raise InputError(
                f"{labels.size} rows, {int(labels.sum())} positive", field="reference_labels",
                expected="at least 100 labelled rows with both classes to calibrate on",
            )
        self._calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        self._calibrator.fit(scores, labels)
        # The baseline is the *estimate* on the reference (not its realised value), so a
        # comparison with a later estimate shares the same calibration bias.
        self.reference_metrics = self.estimate(scores)
        return self

    def calibrated(self, scores: ArrayLike) -> np.ndarray:
        if self._calibrator is None:
            raise InputError("CBPE is not fitted", field="reference",
                             expected="fit(reference_scores, reference_labels) first")
        return np.asarray(self._calibrator.predict(probabilities(scores, "scores")), dtype=float)

    def estimate(self, scores: ArrayLike, *, n_rows: int | None = None) -> dict[str, Estimate]:
        """Estimated metrics (with sampling error) of a window from its scores alone.

        ``n_rows``: the window's size when ``scores`` is a representative sample of it (e.g.
        its score quantiles from a profile); the sampling error is that of ``n_rows`` rows.
        """
        raw = probabilities(scores, "scores")
        if raw.size == 0:
            raise InputError("no rows", field="scores", expected="at least one prediction")
        if n_rows is not None and n_rows < 1:
            raise InputError(f"got {n_rows}", field="n_rows", expected="a positive row count")
        q = self.calibrated(raw)
        pred = raw >= self.threshold
        values = _expected_metrics(q, pred, raw)
        spread = self._sampling_error(q, pred, raw, n_rows or raw.size)
        out = {}
        for m in METRICS:
            v, se = values[m], spread.get(m)
            interval = (v - Z95 * se, v + Z95 * se) if v is not None and se is not None else None
            out[m] = Estimate(m, v, se, interval)
        return out

    def check(
        self, scores: ArrayLike, *, metric: str = "roc_auc", min_drop: float = 0.03,
        alpha: float = 0.05, segment: str | None = None, n_rows: int | None = None,
    ) -> PerformanceResult:
        """Flag an estimated drop of ``metric`` against the reference estimate."""
        if metric not in METRICS:
            raise InputError(f"unknown metric {metric!r}", field="metric",
                             expected=f"one of {', '.join(METRICS)}")
        ref = self.reference_metrics.get(metric)
        if ref is None or ref.value is None:
            raise InputError("CBPE is not fitted", field="reference",
                             expected="fit(reference_scores, reference_labels) first")
        cur = self.estimate(scores, n_rows=n_rows)[metric]
        if cur.value is None:
            raise InputError(f"{metric} is undefined for this window", field="scores",
                             expected="predictions of both classes")
        se = np.hypot(cur.standard_error or 0.0, ref.standard_error or 0.0)
        return metric_change(
            metric, ref.value, cur.value, min_drop=min_drop, standard_error=float(se),
            alpha=alpha, method=METHOD, segment=segment, interval=cur.interval,
        )

    def _sampling_error(
        self, q: np.ndarray, pred: np.ndarray, raw: np.ndarray, n: int
    ) -> dict[str, float]:
        rng = np.random.default_rng(self.seed)
        if q.size > self.max_rows:
            idx = rng.choice(n, self.max_rows, replace=False)
            q, pred, raw = q[idx], pred[idx], raw[idx]
        m = q.size
        ranks = rankdata(raw)
        y = rng.random((self.n_draws, m)) < q  # one realised label vector per row
        tp = (y & pred).sum(axis=1).astype(float)
        fp = pred.sum() - tp
        pos = y.sum(axis=1).astype(float)
        fn = pos - tp
        tn = m - tp - fp - fn
        with np.errstate(invalid="ignore", divide="ignore"):
            draws = {
                "accuracy": (tp + tn) / m,
                "precision": tp / (tp + fp),
                "recall": tp / pos,
                "f1": 2 * tp / (2 * tp + fp + fn),
                "roc_auc": (y @ ranks - pos * (pos + 1) / 2) / (pos * (m - pos)),
            }
        scale = np.sqrt(m / n)
        out = {}
        for name, d in draws.items():
            d = d[np.isfinite(d)]
            if d.size >= 10:
                out[name] = float(np.std(d, ddof=1) * scale)
        return out


def _expected_metrics(
    q: np.ndarray, pred: np.ndarray, raw: np.ndarray
) -> dict[str, float | None]:
    tp = float(q[pred].sum())
    fp = float((1 - q[pred]).sum())
    fn = float(q[~pred].sum())
    tn = float((1 - q[~pred]).sum())
    n = q.size

    def ratio(a: float, b: float) -> float | None:
        return a / b if b > 0 else None

    return {
        "accuracy": (tp + tn) / n,
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": _expected_auc(q, raw),
    }


def _expected_auc(q: np.ndarray, scores: np.ndarray) -> float | None:
    """sum over pairs i != j of q_i (1 - q_j) [s_i > s_j] (+1/2 on ties), over the pair mass."""
    neg = 1.0 - q
    denom = q.sum() * neg.sum() - float(np.dot(q, neg))
    if denom <= 0:
        return None
    order = np.argsort(scores, kind="stable")
    s, qs, ns = scores[order], q[order], neg[order]
    # group ties: negative mass strictly below each tie group, and within the group
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    group_neg = np.add.reduceat(ns, starts)
    group_pos = np.add.reduceat(qs, starts)
    group_both = np.add.reduceat(qs * ns, starts)  # i == j pairs, excluded
    below = np.cumsum(group_neg) - group_neg
    num = float(np.dot(group_pos, below) + 0.5 * (np.dot(group_pos, group_neg) - group_both.sum()))
    return num / denom
