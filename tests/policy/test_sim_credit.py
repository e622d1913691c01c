from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from watchkeeper.sim.credit import (
    COEFFICIENTS,
    EMPLOYMENT,
    FEATURES,
    REGIONS,
    CreditShift,
    default_probability,
    generate_credit,
)


def design(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """The terms of the true rule, in COEFFICIENTS order (without the intercept)."""
    terms = {
        "log_income": np.log(columns["income"] / 40_000),
        "age_decades": (columns["age"] - 40) / 10,
        "debt_ratio": columns["debt_ratio"],
        "late_payments": columns["late_payments"],
        "credit_lines": columns["credit_lines"],
    }
    for key in COEFFICIENTS:
        if "=" in key:
            column, value = key.split("=")
            terms[key] = (columns[column] == value).astype(float)
    names = [k for k in COEFFICIENTS if k != "intercept"]
    return np.column_stack([terms[n] for n in names]), names


def test_same_seed_same_rows_and_other_seed_other_rows() -> None:
    a, b, c = generate_credit(500, seed=3), generate_credit(500, seed=3), generate_credit(500, 4)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["income"], c["income"])


def test_columns_respect_the_starter_schema_domains() -> None:
    cols = generate_credit(5000)
    assert set(FEATURES) <= set(cols)
    assert (cols["income"] >= 0).all() and (cols["loan_amount"] >= 0).all()
    assert cols["age"].min() >= 18 and cols["age"].max() <= 120
    assert ((cols["debt_ratio"] >= 0) & (cols["debt_ratio"] <= 1)).all()
    assert set(np.unique(cols["region"])) == set(REGIONS)
    assert set(np.unique(cols["employment"])) == set(EMPLOYMENT)
    assert len(np.unique(cols["email"])) == 5000
    assert set(np.unique(cols["label"])) == {0, 1}


def test_labels_follow_the_known_logistic_rule() -> None:
    cols = generate_credit(200_000, seed=11)
    x, names = design(cols)
    fit = LogisticRegression(C=1e6, max_iter=2000).fit(x, cols["label"])
    assert fit.intercept_[0] == pytest.approx(COEFFICIENTS["intercept"], abs=0.15)
    for name, coef in zip(names, fit.coef_[0], strict=True):
        assert coef == pytest.approx(COEFFICIENTS[name], abs=0.15), name


def test_default_rate_is_about_one_in_six_and_the_model_is_good_not_perfect() -> None:
    cols = generate_credit(50_000, seed=5)
    assert 0.14 < cols["label"].mean() < 0.19
    model_auc = roc_auc_score(cols["label"], cols["probability"])
    truth_auc = roc_auc_score(cols["label"], cols["true_probability"])
    assert 0.72 < model_auc < truth_auc


def test_shifts_move_the_population_and_the_concept() -> None:
    base = generate_credit(20_000, seed=2)
    richer = generate_credit(20_000, seed=2, shift=CreditShift(income_factor=2.0))
    assert np.median(richer["income"]) == pytest.approx(2 * np.median(base["income"]), rel=0.01)
    west = generate_credit(20_000, seed=2, shift=CreditShift(region_weights=(0, 0, 0, 1)))
    assert set(np.unique(west["region"])) == {"west"}
    holes = generate_credit(20_000, seed=2, shift=CreditShift(income_null_rate=0.3))
    assert np.isnan(holes["income"]).mean() == pytest.approx(0.3, abs=0.02)
    worse = generate_credit(20_000, seed=2, shift=CreditShift(concept_shift=1.0))
    assert worse["label"].mean() > base["label"].mean() + 0.08
    # concept drift: same inputs, different truth
    np.testing.assert_array_equal(worse["income"], base["income"])


def test_true_probability_matches_the_rule_on_the_columns() -> None:
    cols = generate_credit(1000, seed=9)
    np.testing.assert_allclose(default_probability(cols), cols["true_probability"], atol=1e-6)


@pytest.mark.parametrize("weights", [(1, 2), (-1, 1, 1, 1), (0, 0, 0, 0)])
def test_bad_region_weights_are_refused(weights: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="region_weights must be 4 non-negative numbers"):
        generate_credit(10, shift=CreditShift(region_weights=weights))  # type: ignore[arg-type]


def test_n_must_be_positive() -> None:
    with pytest.raises(ValueError, match="n must be at least 1"):
        generate_credit(0)
