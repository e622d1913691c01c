"""Realised metrics agree with scikit-learn; degenerate segments are defined, bad input named."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.performance import (
    classification_metrics,
    kpi_check,
    metric_change,
    regression_metrics,
)


@pytest.fixture
def binary_data():
    rng = np.random.default_rng(7)
    n = 3000
    p = rng.beta(2, 2, size=n)
    y = (rng.uniform(size=n) < p**1.3).astype(int)  # slightly miscalibrated on purpose
    seg = rng.choice(["eu", "us", "apac"], size=n)
    return y, p, seg


def test_binary_metrics_match_scikit_learn(binary_data):
    y, p, _ = binary_data
    m = classification_metrics(y, p, threshold=0.4).overall
    pred = (p >= 0.4).astype(int)
    assert m.accuracy == pytest.approx(skm.accuracy_score(y, pred))
    assert m.precision == pytest.approx(skm.precision_score(y, pred))
    assert m.recall == pytest.approx(skm.recall_score(y, pred))
    assert m.f1 == pytest.approx(skm.f1_score(y, pred))
    assert m.roc_auc == pytest.approx(skm.roc_auc_score(y, p))
    assert m.log_loss == pytest.approx(skm.log_loss(y, p))


def test_reliability_bins_match_calibration_curve_and_give_the_ece(binary_data):
    y, p, _ = binary_data
    m = classification_metrics(y, p, n_bins=10).overall
    frac_pos, mean_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    filled = [b for b in m.reliability if b.count]
    assert [b.observed for b in filled] == pytest.approx(list(frac_pos))
    assert [b.mean_confidence for b in filled] == pytest.approx(list(mean_pred))
    assert sum(b.count for b in m.reliability) == y.size
    expected_ece = sum(
        b.count / y.size * abs(b.mean_confidence - b.observed) for b in filled
    )
    assert m.ece == pytest.approx(expected_ece)
    assert m.ece > 0.01  # the data are miscalibrated on purpose


def test_a_perfectly_calibrated_model_has_small_ece():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    assert classification_metrics(y, p).overall.ece < 0.01


def test_per_segment_metrics_equal_metrics_of_the_subset(binary_data):
    y, p, seg = binary_data
    report = classification_metrics(y, p, segments=seg)
    assert set(report.by_segment) == {"apac", "eu", "us"}
    for name, m in report.by_segment.items():
        mask = seg == name
        assert m.n == mask.sum()
        assert m.roc_auc == pytest.approx(skm.roc_auc_score(y[mask], p[mask]))
        assert m.f1 == pytest.approx(skm.f1_score(y[mask], (p[mask] >= 0.5).astype(int)))


def test_a_segment_with_one_class_has_no_auc_instead_of_an_error():
    m = classification_metrics([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.6], segments=["a", "a", "b", "b"])
    assert m.by_segment["a"].roc_auc is None
    assert m.by_segment["b"].precision == 0.0 and m.by_segment["b"].recall is None
    assert m.overall.roc_auc == pytest.approx(1.0)


def test_multiclass_metrics_match_scikit_learn():
    rng = np.random.default_rng(3)
    n, k = 2000, 4
    logits = rng.normal(size=(n, k))
    y = np.argmax(logits + rng.normal(scale=1.5, size=(n, k)), axis=1)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    m = classification_metrics(y, p).overall
    pred = p.argmax(axis=1)
    assert m.accuracy == pytest.approx(skm.accuracy_score(y, pred))
    assert m.precision == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert m.recall == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert m.f1 == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m.roc_auc == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"))
    assert m.log_loss == pytest.approx(skm.log_loss(y, p))


def test_regression_metrics_match_scikit_learn_and_mape_is_zero_safe():
    rng = np.random.default_rng(5)
    y = rng.normal(10, 3, size=1000)
    pred = y + rng.normal(0, 1, size=1000)
    seg = np.where(y > 10, "high", "low")
    r = regression_metrics(y, pred, segments=seg)
    assert r.overall.mae == pytest.approx(skm.mean_absolute_error(y, pred))
    assert r.overall.rmse == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert r.overall.mape == pytest.approx(skm.mean_absolute_percentage_error(y, pred))
    assert r.overall.r2 == pytest.approx(skm.r2_score(y, pred))
    high = seg == "high"
    assert r.by_segment["high"].r2 == pytest.approx(skm.r2_score(y[high], pred[high]))

    with_zero = regression_metrics([0.0, 2.0, 4.0], [1.0, 3.0, 3.0]).overall
    assert with_zero.mape == pytest.approx((0.5 + 0.25) / 2)
    assert with_zero.mape_excluded == 1
    assert regression_metrics([0.0, 0.0], [1.0, 1.0]).overall.mape is None
    assert regression_metrics([5.0, 5.0], [4.0, 6.0]).overall.r2 is None


@pytest.mark.parametrize(
    ("call", "field", "row"),
    [
        (lambda: classification_metrics([0, 1, 2], [0.1, 0.2, 0.3]), "y_true", 2),
        (lambda: classification_metrics([0, 1], [0.1, 1.2]), "y_score", 1),
        (lambda: classification_metrics([0, 1], [0.1, np.nan]), "y_score", 1),
        (lambda: classification_metrics([0, 1], [0.1]), "y_score", None),
        (lambda: classification_metrics([], []), "y_true", None),
        (lambda: classification_metrics([0, 1], [0.2, 0.4], segments=["a"]), "segments", None),
        (lambda: classification_metrics([0, 5], [[0.5, 0.5], [0.2, 0.8]]), "y_true", 1),
        (lambda: regression_metrics([1.0, "x"], [1.0, 2.0]), "y_true", None),
        (lambda: regression_metrics([1.0, np.inf], [1.0, 2.0]), "y_true", 1),
    ],
)
def test_bad_input_names_field_and_row(call, field, row):
    with pytest.raises(InputError) as err:
        call()
    assert err.value.field == field
    assert err.value.row == row


def test_metric_change_needs_both_a_real_drop_and_significance():
    drop = metric_change("f1", 0.85, 0.78, min_drop=0.03, standard_error=0.01)
    assert drop.flagged and drop.effect_size == pytest.approx(0.07)
    assert "fell from 0.850 to 0.780" in drop.evidence
    noisy = metric_change("f1", 0.85, 0.78, min_drop=0.03, standard_error=0.1)
    assert not noisy.flagged and noisy.severity < drop.severity
    tiny = metric_change("f1", 0.85, 0.845, min_drop=0.03, standard_error=1e-5)
    assert not tiny.flagged
    better = metric_change("rmse", 2.0, 1.5, min_drop=0.1)
    assert not better.flagged and better.severity == 0.0
    worse = metric_change("rmse", 2.0, 2.5, min_drop=0.1)
    assert worse.flagged and "rose" in worse.evidence
    with pytest.raises(InputError, match="unknown metric"):
        metric_change("fscore", 0.8, 0.7, min_drop=0.1)


def test_kpi_check_min_and_max_bounds():
    assert kpi_check("f1", 0.75, minimum=0.8).flagged
    assert not kpi_check("f1", 0.85, minimum=0.8).flagged
    r = kpi_check("latency_p99_ms", 300, maximum=250)
    assert r.flagged and r.severity > 0.5 and "breached" in r.evidence
    with pytest.raises(InputError, match="exactly one"):
        kpi_check("f1", 0.8)


def test_many_segments_are_split_in_one_pass_and_match_their_subsets():
    rng = np.random.default_rng(9)
    n = 50_000
    seg = rng.integers(0, 5_000, n).astype(str)  # a hostile, near-unique segment column
    y = rng.integers(0, 2, n)
    p = rng.uniform(size=n)
    report = classification_metrics(y, p, segments=seg)
    assert len(report.by_segment) == np.unique(seg).size
    some = seg[0]
    mask = seg == some
    assert report.by_segment[some].n == mask.sum()
    assert report.by_segment[some].accuracy == pytest.approx(np.mean((p[mask] >= 0.5) == y[mask]))
    reg = regression_metrics(p, p + 1.0, segments=seg)
    assert reg.by_segment[some].mae == pytest.approx(1.0)
