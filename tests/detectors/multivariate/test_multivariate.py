"""Multivariate drift: both detectors see a broken correlation that no single feature shows,
name the features involved, stay quiet on identical distributions, and are deterministic."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.multivariate import domain_classifier, pca_reconstruction

NAMES = [f"f{i}" for i in range(5)]
FAST = {"n_permutations": 200}


def _sample(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    cov = np.eye(5)
    cov[0, 1] = cov[1, 0] = rho
    return rng.multivariate_normal(np.zeros(5), cov, size=n)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(42)
    return {
        "ref": _sample(rng, 1500, 0.9),
        "same": _sample(rng, 1500, 0.9),
        "broken": _sample(rng, 1500, -0.9),  # same marginals, correlation flipped
    }


def test_a_flipped_correlation_has_unchanged_marginals(data):
    for j in range(5):
        assert stats.ks_2samp(data["ref"][:, j], data["broken"][:, j]).pvalue > 0.001


@pytest.mark.parametrize("model", ["gbm"])
def test_domain_classifier_sees_the_broken_correlation_and_names_its_features(data, model):
    r = domain_classifier(data["ref"], data["broken"], NAMES, model=model, **FAST)
    assert r.flagged and r.statistic > 0.8 and r.statistic > r.threshold
    assert r.p_value == pytest.approx(1 / 201)
    assert {name for name, _ in r.contributors[:2]} == {"f0", "f1"}
    assert r.severity > 0.9
    assert "f0" in r.evidence and "AUC" in r.evidence


def test_domain_classifier_is_quiet_on_the_same_distribution(data):
    r = domain_classifier(data["ref"], data["same"], NAMES, **FAST)
    assert not r.flagged
    assert abs(r.statistic - 0.5) < 0.05
    assert 0.5 < r.threshold < 0.56  # the permutation null sits just above chance
    assert r.severity < 0.2


def test_permutation_threshold_controls_false_alarms():
    rng = np.random.default_rng(0)
    p_values = [
        domain_classifier(
            _sample(rng, 300, 0.5), _sample(rng, 300, 0.5), NAMES, model="logistic",
            n_permutations=99, min_effect=1e-9, seed=s,
        ).p_value
        for s in range(40)
    ]
    assert sum(p <= 0.05 for p in p_values) <= 5  # ~2 expected at a 5% level
    assert max(p_values) > 0.5


def test_a_tiny_but_detectable_shift_needs_the_minimum_effect():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(5000, 5))
    cur = rng.normal(size=(5000, 5))
    cur[:, 3] += 0.15
    strict = domain_classifier(ref, cur, NAMES, model="logistic", min_effect=0.1, **FAST)
    loose = domain_classifier(ref, cur, NAMES, model="logistic", min_effect=0.01, **FAST)
    assert strict.p_value < 0.05 and not strict.flagged
    assert loose.flagged and loose.contributors[0][0] == "f3"


def test_missing_values_are_handled_and_a_new_missingness_pattern_is_drift(data):
    cur = data["same"].copy()
    cur[::3, 2] = np.nan
    r = domain_classifier(data["ref"], cur, NAMES, **FAST)
    assert r.flagged and r.contributors[0][0] == "f2"
    assert domain_classifier(data["ref"], cur, NAMES, model="logistic", **FAST).statistic > 0


def test_large_inputs_are_capped_and_results_are_deterministic(data):
    a = domain_classifier(data["ref"], data["broken"], NAMES, max_rows=400, seed=3, **FAST)
    b = domain_classifier(data["ref"], data["broken"], NAMES, max_rows=400, seed=3, **FAST)
    assert a == b
    assert a.details["n_reference"] == 400 and a.details["n_current"] == 400


def test_pca_sees_the_broken_correlation_and_names_its_features(data):
    r = pca_reconstruction(data["ref"], data["broken"], NAMES)
    assert r.flagged and r.statistic > 5
    assert {name for name, _ in r.contributors[:2]} == {"f0", "f1"}
    assert "components" in r.evidence


def test_pca_is_quiet_on_the_same_distribution_and_deterministic(data):
    r = pca_reconstruction(data["ref"], data["same"], NAMES)
    assert not r.flagged and abs(r.effect_size) < 0.1
    assert r == pca_reconstruction(data["ref"], data["same"], NAMES)


def test_pca_handles_missing_and_constant_reference_columns(data):
    ref = data["ref"].copy()
    ref[:, 4] = 1.0
    ref[::5, 0] = np.nan
    cur = data["same"].copy()
    cur[:, 4] = 1.0
    assert not pca_reconstruction(ref, cur, NAMES).flagged
    cur[:, 4] = 3.0  # the constant column moved
    moved = pca_reconstruction(ref, cur, NAMES)
    assert moved.flagged and moved.contributors[0][0] == "f4"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda d: domain_classifier(d["ref"], d["same"][:, :4], NAMES), "current"),
        (lambda d: domain_classifier(d["ref"][:, 0], d["same"], NAMES), "reference"),
        (lambda d: domain_classifier(d["ref"], d["same"], ["a"] * 5), "feature_names"),
        (lambda d: domain_classifier(d["ref"], d["same"][:2], NAMES), "current"),
        (lambda d: domain_classifier(d["ref"], d["same"], NAMES, model="svm"), "model"),
        (lambda d: domain_classifier(d["ref"], d["same"], NAMES, n_permutations=5),
         "n_permutations"),
        (lambda d: domain_classifier([["x"] * 5] * 10, d["same"], NAMES), "reference"),
        (lambda d: pca_reconstruction(d["ref"][:, :1], d["same"][:, :1], ["a"]),
         "feature_names"),
        (lambda d: pca_reconstruction(d["ref"], np.full((20, 5), np.inf), NAMES), "current"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(data, call, field):
    with pytest.raises(InputError) as err:
        call(data)
    assert err.value.field == field


def test_pca_on_independent_features_keeps_a_residual_and_stays_quiet():
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(size=(3000, 4)), rng.normal(size=(3000, 4))
    r = pca_reconstruction(ref, cur, NAMES[:4])
    assert r.details["n_components"] == 3  # 95% would keep all 4 and see nothing
    assert r.details["reference_error"] > 0.01
    assert not r.flagged and abs(r.effect_size) < 0.1
