"""CBPE: label-free estimates track realised performance under covariate shift, with honest
intervals, and flag a drop before any label arrives."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.performance import CBPE, classification_metrics


def _world(rng: np.random.Generator, n: int, center: float, scale: float):
    """Covariate shift only: P(y | x) is the same logistic everywhere; x moves."""
    x = rng.normal(center, scale, size=(n, 2))
    p_true = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0 * x[:, 1])))
    y = (rng.uniform(size=n) < p_true).astype(int)
    return x, y


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(11)
    x_train, y_train = _world(rng, 5000, 0.0, 1.5)
    model = LogisticRegression().fit(x_train, y_train)  # well specified => calibrated
    x_ref, y_ref = _world(rng, 5000, 0.0, 1.5)
    cbpe = CBPE(seed=1).fit(model.predict_proba(x_ref)[:, 1], y_ref)
    return rng, model, cbpe


def test_estimate_tracks_realised_metrics_as_covariates_shift(fitted):
    rng, model, cbpe = fitted
    errors = []
    for scale in (1.5, 1.0, 0.5, 0.25):  # mass moves onto the decision boundary
        x, y = _world(rng, 4000, 0.0, scale)
        scores = model.predict_proba(x)[:, 1]
        est = cbpe.estimate(scores)
        real = classification_metrics(y, scores).overall
        for metric in ("accuracy", "f1", "roc_auc"):
            e = est[metric]
            realised = getattr(real, metric)
            # realised value inside a 4-sigma band of the estimate (sampling error is honest)
            assert abs(e.value - realised) < 4 * e.standard_error, (scale, metric)
            errors.append(abs(e.value - realised))
    assert np.mean(errors) < 0.03


def test_intervals_cover_the_realised_value_about_95_percent_of_the_time(fitted):
    rng, model, cbpe = fitted
    hits = 0
    trials = 60
    for _ in range(trials):
        x, y = _world(rng, 1000, 0.3, 1.0)
        scores = model.predict_proba(x)[:, 1]
        lo, hi = cbpe.estimate(scores)["accuracy"].interval
        hits += lo <= classification_metrics(y, scores).overall.accuracy <= hi
    assert 0.85 <= hits / trials <= 1.0


def test_drop_is_flagged_from_scores_alone_and_stable_data_is_not(fitted):
    rng, model, cbpe = fitted
    x_shift, y_shift = _world(rng, 3000, 0.0, 0.4)
    shifted = model.predict_proba(x_shift)[:, 1]
    result = cbpe.check(shifted, metric="roc_auc", min_drop=0.03)
    assert result.flagged and result.method == "cbpe"
    assert result.interval[0] < result.statistic < result.interval[1]
    realised_auc = classification_metrics(y_shift, shifted).overall.roc_auc
    assert cbpe.reference_metrics["roc_auc"].value - realised_auc > 0.03  # the drop is real

    x_same, _ = _world(rng, 3000, 0.0, 1.5)
    same = cbpe.check(model.predict_proba(x_same)[:, 1], metric="roc_auc")
    assert not same.flagged and same.severity < 0.3


def test_expected_auc_equals_realised_auc_when_probabilities_are_labels():
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=500)
    labels = (scores > 0.6).astype(int)
    cbpe = CBPE().fit(scores, labels)  # isotonic maps scores to exactly 0/1
    assert cbpe.estimate(scores)["roc_auc"].value == pytest.approx(1.0)
    realised = classification_metrics(labels, scores).overall
    assert cbpe.estimate(scores)["accuracy"].value == pytest.approx(realised.accuracy)
    assert cbpe.estimate(scores)["f1"].value == pytest.approx(realised.f1)


def test_estimates_are_deterministic_for_a_seed(fitted):
    _, _, cbpe = fitted
    scores = np.linspace(0.01, 0.99, 30_000)  # above max_rows: exercises the subsample
    a, b = cbpe.estimate(scores), cbpe.estimate(scores)
    assert a == b


def test_unfitted_or_unlabelled_reference_is_refused():
    with pytest.raises(InputError, match="fit"):
        CBPE().estimate([0.5])
    with pytest.raises(InputError, match="both classes"):
        CBPE().fit(np.full(200, 0.3), np.zeros(200))
    with pytest.raises(InputError, match="unknown metric"):
        CBPE().check([0.5], metric="mcc")


def test_a_quantile_summary_of_the_scores_gives_the_same_estimate_and_error(fitted):
    rng, model, cbpe = fitted
    x, _ = _world(rng, 20_000, 0.0, 0.7)
    scores = model.predict_proba(x)[:, 1]
    full = cbpe.estimate(scores)
    m = 2000
    summary = np.quantile(scores, (np.arange(m) + 0.5) / m)
    approx = cbpe.estimate(summary, n_rows=scores.size)
    for metric in ("accuracy", "f1", "roc_auc"):
        assert approx[metric].value == pytest.approx(full[metric].value, abs=0.005)
        assert approx[metric].standard_error == pytest.approx(
            full[metric].standard_error, rel=0.3
        )
    with pytest.raises(InputError, match="n_rows"):
        cbpe.estimate(summary, n_rows=0)
