from __future__ import annotations

import math

import numpy as np
import pytest

from watchkeeper.profiles import CategoricalColumn, CategoricalProfile, NumericProfile


def test_small_sample_quantiles_cdf_and_histogram_are_exact() -> None:
    p = NumericProfile()
    p.update(np.array([1.0, 2.0, 2.0, 3.0, np.nan, 10.0]))
    assert (p.count, p.nulls, p.min, p.max) == (5, 1, 1.0, 10.0)
    assert p.rank_error == 0.0
    assert p.cdf([2.0, 0.0, 10.0]).tolist() == [0.6, 0.0, 1.0]
    assert p.histogram([1.0, 2.0, 3.0, 10.0]).tolist() == [1.0, 2.0, 2.0]
    assert p.histogram([-math.inf, 2.0, math.inf]).tolist() == [1.0, 4.0]
    assert np.histogram([1, 2, 2, 3, 10], [1.0, 2.0, 3.0, 10.0])[0].tolist() == [1, 2, 2]


def test_large_sample_histogram_within_rank_error() -> None:
    rng = np.random.default_rng(7)
    values = rng.standard_normal(200_000)
    p = NumericProfile()
    p.update(values)
    edges = np.quantile(values, np.linspace(0, 1, 11))
    expected = np.histogram(values, edges)[0]
    assert p.rank_error > 0
    assert np.all(np.abs(p.histogram(edges) - expected) <= 2 * p.rank_error * values.size)


def test_empty_profile_answers_without_error() -> None:
    p = NumericProfile()
    p.update(np.array([np.nan, np.nan]))
    assert p.nulls == 2 and p.count == 0 and p.null_fraction == 1.0
    assert np.isnan(p.quantiles([0.5])).all()
    assert p.cdf([1.0]).tolist() == [0.0]
    assert math.isnan(p.variance)


def test_histogram_rejects_unsorted_edges() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        NumericProfile().histogram([1.0, 0.0])


def test_object_arrays_with_none_are_nulls() -> None:
    p = NumericProfile()
    p.update(np.array([1, None, 3], dtype=object))
    assert (p.count, p.nulls, p.mean) == (2, 1, 2.0)


def test_dictionary_encoded_column_counts_like_plain_strings() -> None:
    a, b = CategoricalProfile(), CategoricalProfile()
    a.update(CategoricalColumn(np.array([0, 1, 1, -1, 2]), ["x", "y", "z"]))
    b.update(np.array(["x", "y", "y", None, "z"], dtype=object))
    assert a.counts() == b.counts() == {"y": 2, "x": 1, "z": 1}
    assert (a.nulls, a.count) == (b.nulls, b.count) == (1, 4)


def test_booleans_are_categories_true_false() -> None:
    p = CategoricalProfile()
    p.update(np.array([True, False, True]))
    assert p.counts() == {"true": 2, "false": 1}


def test_many_categories_state_an_error_bound_that_holds() -> None:
    rng = np.random.default_rng(1)
    values = rng.zipf(1.3, 50_000) % 5000
    p = CategoricalProfile()
    p.update(values.astype(str).astype(object))
    truth = dict(zip(*np.unique(values.astype(str), return_counts=True), strict=True))
    assert p.error_bound > 0
    for name, estimate in p.counts().items():
        assert abs(estimate - truth[name]) <= p.error_bound
    top = max(truth, key=truth.get)  # type: ignore[arg-type]
    assert top in p.counts()
    assert abs(p.distinct - len(truth)) / len(truth) < 0.05
