"""Realised regression metrics, overall and per segment.

MAPE is zero-safe: rows whose true value is 0 have no percentage error and are left out (their
count is reported as ``mape_excluded``); scikit-learn instead divides by machine epsilon, which
turns one zero target into an error of ~1e15. R2 is None when the true values are constant
(undefined). Hand-written for the same reasons as classification.py; cross-checked against
scikit-learn in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.performance._validate import (
    ArrayLike,
    numbers,
    same_length,
    segment_rows,
    segments_of,
)


@dataclass(frozen=True, slots=True)
class RegressionMetrics:
    n: int
    mae: float
    rmse: float
    mape: float | None  # fraction (0.1 = 10%); None if every target is 0
    r2: float | None
    mape_excluded: int  # rows left out of MAPE because the target is 0

    def as_dict(self) -> dict[str, float | None]:
        return {"mae": self.mae, "rmse": self.rmse, "mape": self.mape, "r2": self.r2}


@dataclass(frozen=True, slots=True)
class RegressionReport:
    overall: RegressionMetrics
    by_segment: dict[str, RegressionMetrics] = field(default_factory=dict)


def regression_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    segments: Sequence[object] | np.ndarray | None = None,
) -> RegressionReport:
    truth = numbers(y_true, "y_true")
    pred = numbers(y_pred, "y_pred")
    same_length(truth, pred, "y_true", "y_pred")
    if truth.size == 0:
        raise InputError("no rows", field="y_true", expected="at least one labelled row")
    seg = segments_of(segments, truth.size)
    overall = _metrics(truth, pred)
    by_segment = {}
    if seg is not None:
        for name, rows in segment_rows(seg):
            by_segment[name] = _metrics(truth[rows], pred[rows])
    return RegressionReport(overall=overall, by_segment=by_segment)


def _metrics(y: np.ndarray, p: np.ndarray) -> RegressionMetrics:
    err = p - y
    nonzero = y != 0
    mape = float(np.mean(np.abs(err[nonzero] / y[nonzero]))) if nonzero.any() else None
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else None
    return RegressionMetrics(
        n=int(y.size), mae=float(np.mean(np.abs(err))), rmse=float(np.sqrt(np.mean(err**2))),
        mape=mape, r2=r2, mape_excluded=int((~nonzero).sum()),
    )
