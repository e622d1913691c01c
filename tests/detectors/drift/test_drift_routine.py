"""The shared rules: minimum effect, multiple-testing correction, dataset drift, defaults."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from watchkeeper.core.enums import FeatureType
from watchkeeper.core.errors import InputError
from watchkeeper.detectors.correction import Correction, adjust
from watchkeeper.detectors.drift import (
    DriftRules,
    NumericSample,
    compare,
    dataset_drift,
    decide,
    default_method,
    get_method,
    ks,
    measure,
)
from watchkeeper.detectors.drift.base import Direction
from watchkeeper.detectors.drift.effect import wasserstein_sorted
from watchkeeper.detectors.drift.routine import Measurement


def _m(name: str, p: float | None, effect: float, method: str = "ks") -> Measurement:
    spec = get_method(method)
    return Measurement(
        name,
        FeatureType.NUMERIC,
        spec.id,
        spec.direction,
        spec.default_threshold,
        0.5,
        p,
        effect,
        100,
        100,
    )


def test_a_tiny_shift_in_a_huge_sample_is_significant_but_not_drift() -> None:
    rng = np.random.default_rng(7)
    ref = rng.normal(0, 1, 2_000_000)
    cur = rng.normal(0.01, 1, 2_000_000)  # 0.01 sd: real, and irrelevant
    found = measure(
        "x", FeatureType.NUMERIC, (NumericSample.prepare(ref), NumericSample.prepare(cur))
    )
    assert found.p_value is not None and found.p_value < 1e-6
    verdict = decide([found]).features[0]
    assert verdict.significant and not verdict.drifted
    assert found.effect_size == pytest.approx(0.01, abs=0.003)


def test_min_effect_is_configurable() -> None:
    found = _m("x", 1e-9, 0.015)
    assert not decide([found]).features[0].drifted
    assert decide([found], DriftRules(min_effect=0.01)).features[0].drifted


def test_benjamini_hochberg_matches_scipy() -> None:
    p = [0.001, 0.04, 0.03, 0.2, 0.0101, 0.9, 0.049]
    assert adjust(p, Correction.BH) == pytest.approx(stats.false_discovery_control(p))


def test_bonferroni_multiplies_by_the_number_of_tests_and_caps_at_one() -> None:
    assert adjust([0.01, 0.3], Correction.BONFERRONI) == [0.02, 0.6]
    assert adjust([0.7, 0.3], Correction.BONFERRONI) == [1.0, 0.6]
    assert adjust([0.01, 0.3], Correction.NONE) == [0.01, 0.3]


def test_correction_stops_chance_findings_among_many_features() -> None:
    # 50 features, one p-value just under 0.05 by chance: alone it is "significant",
    # among 50 it is not.
    found = [_m(f"f{i}", 0.5, 0.1) for i in range(49)] + [_m("lucky", 0.04, 0.1)]
    assert not decide(found).features[-1].drifted
    assert decide(found, DriftRules(correction=Correction.NONE)).features[-1].drifted


def test_distances_are_not_part_of_the_correction_family() -> None:
    found = [_m("d", None, 0.3, "psi"), _m("t", 0.01, 0.3)]
    report = decide(found)
    assert report.features[0].p_value_adjusted is None
    assert report.features[1].p_value_adjusted == pytest.approx(0.01)  # a family of one
    assert report.features[0].measurement.direction is Direction.STATISTIC_AT_LEAST


def test_dataset_drift_is_share_of_drifted_features_at_least_threshold() -> None:
    assert dataset_drift([True, False, False, False], 0.25) == (True, 0.25)
    assert dataset_drift([True, False, False, False], 0.5) == (False, 0.25)
    assert dataset_drift([], 0.5) == (False, 0.0)
    report = decide([_m("a", 1e-9, 0.5), _m("b", 0.9, 0.0)], DriftRules(drift_share=0.5))
    assert report.dataset_drift and report.drifted_share == 0.5


def test_unknown_correction_and_bad_rules_are_clear_errors() -> None:
    with pytest.raises(InputError, match="expected one of bh, bonferroni, none"):
        Correction.parse("holm")
    with pytest.raises(InputError, match="drift_share"):
        DriftRules(drift_share=0)
    with pytest.raises(InputError, match="min_effect"):
        DriftRules(min_effect=float("nan"))


def test_unknown_method_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="expected one of ks, psi"):
        get_method("kolmogorov")


def test_method_refuses_a_feature_type_it_does_not_accept() -> None:
    with pytest.raises(InputError, match="does not accept categorical"):
        compare({"c": ["a", "b"]}, {"c": ["a", "a"]}, methods={"c": "ks"})


def test_default_method_per_type_and_size() -> None:
    assert default_method(FeatureType.NUMERIC, 10, 10) == "ks"
    assert default_method(FeatureType.NUMERIC, 10**7, 10**7) == "ks"
    assert default_method(FeatureType.DATETIME, 500, 500) == "ks"
    assert default_method(FeatureType.CATEGORICAL, 1000, 1000) == "chisquare"
    assert default_method(FeatureType.BOOLEAN, 1000, 20) == "hellinger"


def test_compare_infers_types_and_refuses_mismatched_columns() -> None:
    rng = np.random.default_rng(3)
    report = compare(
        {"n": rng.normal(size=500), "c": rng.choice(["a", "b"], 500), "b": rng.random(500) < 0.5},
        {"n": rng.normal(size=400), "c": rng.choice(["a", "b"], 400), "b": rng.random(400) < 0.5},
    )
    assert [f.measurement.feature_type.value for f in report.features] == [
        "numeric",
        "categorical",
        "boolean",
    ]
    assert report.n_reference == 500 and report.n_current == 400
    with pytest.raises(InputError, match="different columns"):
        compare({"a": [1.0]}, {"b": [1.0]})


def test_effect_size_is_wasserstein_in_reference_sd_and_tvd_for_categories() -> None:
    rng = np.random.default_rng(11)
    ref = rng.normal(5, 2, 100_000)
    report = compare(
        {"x": ref, "c": ["a"] * 90 + ["b"] * 10}, {"x": ref + 0.2, "c": ["a"] * 80 + ["b"] * 20}
    )  # +0.1 sd; 10% moved
    x, c = report.features
    assert x.measurement.effect_size == pytest.approx(0.2 / np.std(ref), rel=1e-9)
    assert c.measurement.effect_size == pytest.approx(0.1)


def test_wasserstein_quantile_grid_matches_scipy_for_awkward_sizes() -> None:
    rng = np.random.default_rng(5)
    for n, m in ((997, 1009), (1, 50), (3000, 7)):
        a, b = np.sort(rng.gamma(2, 1, n)), np.sort(rng.normal(2, 1, m))
        assert wasserstein_sorted(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


def test_report_json_has_the_contract_keys() -> None:
    report = compare({"x": np.arange(100.0)}, {"x": np.arange(100.0) + 50})
    d = report.to_dict()
    assert {"dataset_drift", "drifted_share", "n_reference", "n_current", "features"} <= set(d)
    assert {
        "name",
        "type",
        "method",
        "statistic",
        "p_value",
        "effect_size",
        "threshold",
        "drifted",
    } <= set(d["features"][0])
    assert d["features"][0]["drifted"] is True and d["dataset_drift"] is True


def test_ks_statistic_equals_scipy_on_ties_small_and_large_samples() -> None:
    rng = np.random.default_rng(42)
    cases = []
    for i in range(300):
        n, m = int(rng.integers(1, 300)), int(rng.integers(1, 300))
        if i % 3 == 0:  # heavy ties: small integers
            a = rng.integers(0, int(rng.integers(1, 20)), n).astype(float)
            b = rng.integers(0, int(rng.integers(1, 20)), m).astype(float)
        else:
            a, b = rng.normal(size=n), rng.normal(rng.normal() * 0.3, size=m)
        cases.append((a, b))
    # beyond 16 x 4096 values the grid is finer than the default; exercise both, with ties
    cases.append((rng.normal(size=100_000), rng.normal(0.01, size=70_001)))
    cases.append((np.round(rng.normal(size=90_000), 2), np.round(rng.normal(size=80_000), 2)))
    for a, b in cases:
        expected = stats.ks_2samp(a, b).statistic
        assert ks.ks_statistic(np.sort(a), np.sort(b)) == pytest.approx(expected, abs=1e-12)
