"""Fit a template with a budgeted, seeded hyper-parameter search. Runs inside the sandbox.

Trials: the template's defaults first, then `hpo_budget - 1` settings drawn from its space by
scikit-learn's `ParameterSampler` (seeded, without repeats while the grid allows). Each trial
is scored on a stratified holdout or by k-fold cross-validation of the training rows; the best
is refitted on all of them. For binary classifiers with a thresholded metric (F1, ...), the
decision threshold is chosen on the validation predictions of the best trial, so it is never
tuned on the rows that judge the candidate afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn.model_selection import KFold, ParameterSampler, StratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

from watchkeeper.core.enums import Task
from watchkeeper.core.errors import InputError
from watchkeeper.mitigation import metrics as m
from watchkeeper.mitigation.data import Columns
from watchkeeper.mitigation.templates import resolve


@dataclass(slots=True)
class TrainJob:
    template: str
    task: Task
    columns: Columns
    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None = None
    metric: str = "f1"
    method: Literal["holdout", "cv"] = "holdout"
    holdout_fraction: float = 0.2
    folds: int = 5
    hpo_budget: int = 8
    seed: int = 0


@dataclass(slots=True)
class TrainOutput:
    estimator: Any
    template: str
    template_version: str
    params: dict[str, Any]
    threshold: float
    validation: dict[str, float]  # the best trial's validation figures
    trials: list[dict[str, Any]] = field(default_factory=list)


def trial_params(defaults: dict[str, Any], space: dict[str, list[Any]], budget: int,
                 seed: int) -> list[dict[str, Any]]:
    trials = [dict(defaults)]
    if budget > 1 and space:
        # Draw one more than needed: on a grid the sampler draws without replacement, so at
        # most one draw repeats the defaults and the budget is spent on distinct trials.
        grid = math.prod(len(v) for v in space.values())
        for drawn in ParameterSampler(space, n_iter=min(grid, budget), random_state=seed):
            candidate = {**defaults, **drawn}
            if candidate not in trials:
                trials.append(candidate)
            if len(trials) == budget:
                break
    return trials


def _fit(estimator: Any, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> Any:
    if w is None:
        return estimator.fit(x, y)
    try:
        return estimator.fit(x, y, model__sample_weight=w)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the template cannot take importance weights ({exc})",
                         field="retrain.weighting",
                         expected="a pipeline whose last step is named 'model' and accepts "
                         "sample_weight, or weighting off") from None


def _splits(job: TrainJob, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    classify = job.task != Task.REGRESSION
    if job.method == "cv":
        if classify:
            folds = StratifiedKFold(job.folds, shuffle=True, random_state=job.seed)
            return list(folds.split(np.zeros(n), job.y))
        return list(KFold(job.folds, shuffle=True, random_state=job.seed).split(np.zeros(n)))
    idx = np.arange(n)
    train, valid = train_test_split(idx, test_size=job.holdout_fraction, random_state=job.seed,
                                    stratify=job.y if classify else None)
    return [(np.sort(train), np.sort(valid))]


def train(job: TrainJob) -> TrainOutput:
    # one native thread: on a busy machine OpenMP's spinning pools slow small fits many-fold
    with threadpool_limits(limits=1):
        return _train(job)


def _train(job: TrainJob) -> TrainOutput:
    n = len(job.y)
    if n < 20:
        raise InputError(f"only {n} labelled rows to train on", field="window",
                         expected="at least 20 labelled rows (widen retrain.history)")
    if job.task != Task.REGRESSION and len(np.unique(job.y)) < 2:
        raise InputError("the training rows hold one class only", field="window",
                         expected="labels of at least two classes")
    template = resolve(job.template)
    splits = _splits(job, n)
    trials: list[dict[str, Any]] = []
    best: tuple[float, dict[str, Any], np.ndarray, np.ndarray] | None = None
    sign = 1.0 if m.higher_is_better(job.metric) else -1.0
    for params in trial_params(dict(template.defaults), dict(template.space),
                               max(job.hpo_budget, 1), job.seed):
        params = {**params, "seed": job.seed}
        oof_idx, oof_scores, values = [], [], []
        for tr, va in splits:
            est = _fit(template.build(params, job.columns, job.task), job.x[tr], job.y[tr],
                       None if job.weights is None else job.weights[tr])
            scores = m.outputs(est, job.x[va], job.task)
            oof_idx.append(va)
            oof_scores.append(scores)
            values.append(_selection_value(job, job.y[va], scores))
        value = float(np.mean(values))
        trials.append({"params": _jsonable(params), job.metric: value})
        if best is None or sign * value > sign * best[0]:
            best = (value, params, np.concatenate(oof_idx), np.concatenate(oof_scores))
    assert best is not None
    value, params, idx, scores = best
    threshold = 0.5
    if job.task == Task.BINARY_CLASSIFICATION and job.metric in m.THRESHOLDED:
        threshold = m.best_threshold(job.y[idx], scores, job.metric)
    validation = {job.metric: m.metric(job.metric, job.y[idx], scores, job.task, threshold),
                  "n_validation": float(len(idx))}
    final = _fit(template.build(params, job.columns, job.task), job.x, job.y, job.weights)
    return TrainOutput(final, template.id, template.version, _jsonable(params), threshold,
                       validation, trials)


def _selection_value(job: TrainJob, y: np.ndarray, scores: np.ndarray) -> float:
    if job.task == Task.BINARY_CLASSIFICATION and job.metric in m.THRESHOLDED:
        # compare trials at their own best cut, as each would be deployed
        return m.metric(job.metric, y, scores, job.task, m.best_threshold(y, scores, job.metric))
    return m.metric(job.metric, y, scores, job.task)


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        out[k] = v.item() if isinstance(v, np.generic) else v
    return out
