"""The severity mapping is monotone, bounded and hits its documented anchor points."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.detectors.severity import (
    magnitude,
    severity,
    severity_over_budget,
    significance,
)

effects = st.floats(min_value=0, max_value=1e6, allow_nan=False)
min_effects = st.floats(min_value=1e-6, max_value=1e3, allow_nan=False)
p_values = st.floats(min_value=0, max_value=1, allow_nan=False)


@given(effects, effects, min_effects, p_values)
def test_severity_never_decreases_as_the_effect_grows(a, b, min_effect, p):
    lo, hi = sorted((a, b))
    assert severity(lo, min_effect, p) <= severity(hi, min_effect, p)


@given(effects, min_effects, p_values, p_values)
def test_severity_never_increases_as_the_p_value_grows(effect, min_effect, p1, p2):
    lo, hi = sorted((p1, p2))
    assert severity(effect, min_effect, hi) <= severity(effect, min_effect, lo)


@given(st.floats(allow_nan=True), min_effects, st.one_of(st.none(), p_values))
def test_severity_is_always_in_the_unit_interval(effect, min_effect, p):
    assert 0.0 <= severity(effect, min_effect, p) <= 1.0


@given(st.floats(min_value=-1e6, max_value=1e6), st.floats(min_value=-1e6, max_value=1e6))
def test_budget_severity_is_monotone_in_the_excess(a, b):
    lo, hi = sorted((a, b))
    assert severity_over_budget(lo, 250.0) <= severity_over_budget(hi, 250.0)
    assert severity_over_budget(hi, 0.8, higher_is_worse=False) <= severity_over_budget(
        lo, 0.8, higher_is_worse=False
    )


def test_documented_anchor_points():
    assert magnitude(0.0, 0.1) == 0.0
    assert magnitude(0.1, 0.1) == pytest.approx(0.5)
    assert magnitude(0.2, 0.1) == pytest.approx(0.8)
    assert magnitude(0.3, 0.1) == pytest.approx(0.9)
    assert magnitude(math.inf, 0.1) == 1.0
    assert significance(0.01) == 1.0
    assert significance(None) == 1.0
    assert significance(1.0) == 0.0
    assert significance(math.sqrt(0.05)) == pytest.approx(0.5)
    assert severity_over_budget(250.0, 250.0) == 0.0
    assert severity_over_budget(275.0, 250.0) == pytest.approx(0.5)


def test_a_large_effect_that_is_not_significant_is_damped():
    assert severity(1.0, 0.1, p_value=0.9) < 0.05 < severity(1.0, 0.1, p_value=0.001)


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda: severity(0.1, 0.0), "min_effect"),
        (lambda: severity(0.1, 0.1, alpha=1.5), "alpha"),
        (lambda: magnitude(0.1, 0.1, steepness=0), "steepness"),
        (lambda: severity_over_budget(1.0, 0.0), "budget"),
    ],
)
def test_bad_parameters_are_refused_by_name(call, word):
    with pytest.raises(ValueError, match=word):
        call()
