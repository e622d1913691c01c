"""A profile built in parts and merged equals the one-pass profile: exactly for counts, nulls,
min/max and distinct-count sketches, to float tolerance for mean/variance, and within the KLL
sketch's documented rank error for quantiles."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.profiles import WindowProfile, build_profile, merge_all

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
maybe_null = st.one_of(finite, st.just(math.nan))
CATEGORIES = np.array(["a", "b", "c", "d", "é", "", None], dtype=object)


@st.composite
def batches(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[int]]:
    size = draw(st.integers(min_value=1, max_value=3000))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    numbers = rng.standard_normal(size) * draw(st.floats(0.1, 1e3)) + draw(finite)
    numbers[rng.random(size) < draw(st.floats(0, 0.5))] = np.nan
    extra = draw(st.lists(maybe_null, max_size=20))
    numbers = np.concatenate([numbers, np.asarray(extra, dtype=np.float64)])
    cats = CATEGORIES[rng.integers(0, draw(st.integers(1, len(CATEGORIES))), len(numbers))]
    cuts = sorted(draw(st.lists(st.integers(0, len(numbers)), max_size=5)))
    return numbers, cats, cuts


def _build(numbers: np.ndarray, cats: np.ndarray) -> WindowProfile:
    return build_profile(
        {"x": numbers, "c": cats},
        {"x": "numeric", "c": "categorical"},
        latency=np.abs(numbers),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_parts_merged_equal_one_pass(data: tuple[np.ndarray, np.ndarray, list[int]]) -> None:
    numbers, cats, cuts = data
    whole = _build(numbers, cats)
    bounds = [0, *cuts, len(numbers)]
    parts = [_build(numbers[a:b], cats[a:b]) for a, b in itertools.pairwise(bounds)]
    # Through bytes too: what is stored is what is merged.
    merged = merge_all([WindowProfile.from_bytes(p.to_bytes()) for p in parts])

    assert merged.n == whole.n == len(numbers)
    mx, wx = merged.features["x"], whole.features["x"]
    assert (mx.count, mx.nulls) == (wx.count, wx.nulls)
    present = numbers[~np.isnan(numbers)]
    assert wx.count == present.size
    if present.size:
        assert mx.min == wx.min == present.min()
        assert mx.max == wx.max == present.max()
        assert math.isclose(mx.mean, present.mean(), rel_tol=1e-9, abs_tol=1e-6)
    if present.size > 1:
        assert math.isclose(mx.variance, present.var(ddof=1), rel_tol=1e-7, abs_tol=1e-6)
        # Rank error: the true rank of the merged sketch's quantile is within the bound.
        eps = mx.sketch.normalized_rank_error(False)
        ordered = np.sort(present)
        for q in (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
            value = mx.quantiles([q])[0]
            lo = np.searchsorted(ordered, value, "left") / ordered.size
            hi = np.searchsorted(ordered, value, "right") / ordered.size
            assert lo - eps <= q <= hi + eps, (q, value, lo, hi, eps)

    mc, wc = merged.features["c"], whole.features["c"]
    truth: dict[str, int] = {}
    for v in cats:
        if v is not None:
            truth[v] = truth.get(v, 0) + 1
    assert mc.counts() == wc.counts() == truth  # few categories: frequent items are exact
    assert mc.error_bound == 0
    assert (mc.count, mc.nulls) == (wc.count, wc.nulls)
    assert round(mc.distinct) == round(wc.distinct) == len(truth)
    assert merged.latency is not None and merged.latency.count == present.size
