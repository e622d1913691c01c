"""One conformance suite for every entry of METHODS: a method added to the catalogue is tested the
day it is added. Test ids name the method and the check (e.g. `ks-shifted_sample_drifts`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from datasketches import kll_doubles_sketch
from scipy import stats
from scipy.spatial.distance import jensenshannon

from watchkeeper.core.enums import FeatureType
from watchkeeper.core.errors import InputError
from watchkeeper.detectors.drift import (
    METHODS,
    CategoricalCounts,
    DriftMethod,
    NumericBins,
    NumericSample,
    decide,
    measure,
)
from watchkeeper.detectors.drift.base import CATEGORICAL_TYPES, NUMERIC_TYPES

rng = np.random.default_rng(20261126)
REF = rng.normal(0.0, 1.0, 3000)
SAME_DISTRIBUTION = rng.normal(0.0, 1.0, 2500)
SHIFTED = rng.normal(1.0, 1.0, 2500)
CATS = ["a", "b", "c", "d"]
REF_CAT = rng.choice(CATS, 3000, p=[0.4, 0.3, 0.2, 0.1])
SHIFTED_CAT = rng.choice(CATS, 2500, p=[0.1, 0.2, 0.3, 0.4])


def numeric(method: DriftMethod) -> bool:
    return bool(method.feature_types & NUMERIC_TYPES)


def categorical(method: DriftMethod) -> bool:
    return bool(method.feature_types & CATEGORICAL_TYPES)


def _verdict(method: DriftMethod, ref: np.ndarray, cur: np.ndarray, kind: FeatureType):
    if kind in CATEGORICAL_TYPES:
        data = CategoricalCounts.from_values(ref, cur)
    else:
        data = (NumericSample.prepare(ref), NumericSample.prepare(cur))
    return decide([measure("x", kind, data, method.id)]).features[0]


# --- the checks; each takes a method and fails or skips -----------------------------------


def identical_samples_do_not_drift(method: DriftMethod) -> None:
    if numeric(method):
        f = _verdict(method, REF, REF.copy(), FeatureType.NUMERIC)
        assert not f.drifted and f.measurement.effect_size == 0.0
        assert f.measurement.p_value in (None, 1.0) or f.measurement.p_value > 0.99
    if categorical(method):
        f = _verdict(method, REF_CAT, REF_CAT.copy(), FeatureType.CATEGORICAL)
        assert not f.drifted and f.measurement.effect_size == 0.0


def same_distribution_does_not_drift(method: DriftMethod) -> None:
    if numeric(method):
        assert not _verdict(method, REF, SAME_DISTRIBUTION, FeatureType.NUMERIC).drifted


def shifted_sample_drifts(method: DriftMethod) -> None:
    if numeric(method):
        f = _verdict(method, REF, SHIFTED, FeatureType.NUMERIC)
        assert f.drifted, f
        assert f.measurement.effect_size == pytest.approx(1.0, abs=0.1)  # a 1-sd shift
    if categorical(method):
        f = _verdict(method, REF_CAT, SHIFTED_CAT, FeatureType.CATEGORICAL)
        assert f.drifted, f


def empty_input_is_a_clear_error(method: DriftMethod) -> None:
    if numeric(method):
        with pytest.raises(InputError, match="no non-missing values"):
            _verdict(method, REF, np.array([]), FeatureType.NUMERIC)
    if categorical(method):
        with pytest.raises(InputError, match="no non-missing values"):
            _verdict(method, REF_CAT, np.array([], dtype=object), FeatureType.CATEGORICAL)


def all_missing_input_is_a_clear_error(method: DriftMethod) -> None:
    if numeric(method):
        with pytest.raises(InputError, match="no non-missing values"):
            _verdict(method, np.full(10, np.nan), REF, FeatureType.NUMERIC)
    if categorical(method):
        with pytest.raises(InputError, match="no non-missing"):
            _verdict(method, np.array([None, None], dtype=object), REF_CAT, FeatureType.CATEGORICAL)


def missing_values_are_dropped(method: DriftMethod) -> None:
    if numeric(method):
        with_nan = np.concatenate([SAME_DISTRIBUTION, np.full(50, np.nan)])
        a = _verdict(method, REF, with_nan, FeatureType.NUMERIC).measurement
        b = _verdict(method, REF, SAME_DISTRIBUTION, FeatureType.NUMERIC).measurement
        assert a.statistic == b.statistic and a.n_current == SAME_DISTRIBUTION.size


def infinite_values_are_a_clear_error(method: DriftMethod) -> None:
    if numeric(method):
        with pytest.raises(InputError, match="infinite"):
            _verdict(method, REF, np.array([1.0, np.inf]), FeatureType.NUMERIC)


def constant_input_has_a_defined_result(method: DriftMethod) -> None:
    if numeric(method):
        same = _verdict(method, np.full(100, 3.0), np.full(80, 3.0), FeatureType.NUMERIC)
        assert not same.drifted and same.measurement.effect_size == 0.0
        moved = _verdict(method, np.full(100, 3.0), np.full(80, 4.0), FeatureType.NUMERIC)
        assert moved.drifted and np.isfinite(moved.measurement.statistic)
    if categorical(method):
        same = _verdict(
            method, np.array(["a"] * 100), np.array(["a"] * 80), FeatureType.CATEGORICAL
        )
        assert not same.drifted
        moved = _verdict(
            method, np.array(["a"] * 100), np.array(["b"] * 80), FeatureType.CATEGORICAL
        )
        assert moved.drifted


def single_value_gives_a_result_or_a_clear_error(method: DriftMethod) -> None:
    if numeric(method):
        try:
            f = _verdict(method, np.array([1.0]), np.array([2.0]), FeatureType.NUMERIC)
        except InputError as exc:
            assert "at least two" in str(exc)
        else:
            assert np.isfinite(f.measurement.statistic)
            assert f.measurement.p_value is None or 0 <= f.measurement.p_value <= 1


def output_is_deterministic(method: DriftMethod) -> None:
    if numeric(method):
        first = _verdict(method, REF, SHIFTED, FeatureType.NUMERIC)
        assert _verdict(method, REF, SHIFTED, FeatureType.NUMERIC) == first
    if categorical(method):
        first = _verdict(method, REF_CAT, SHIFTED_CAT, FeatureType.CATEGORICAL)
        assert _verdict(method, REF_CAT, SHIFTED_CAT, FeatureType.CATEGORICAL) == first


def _sketch_bins(ref: np.ndarray, cur: np.ndarray, k: int = 200, grid: int = 64) -> NumericBins:
    """What the signals layer builds from two KLL profiles: edges from the reference sketch's
    quantiles, CDFs from both sketches, the datasketches-documented rank error for get_cdf."""
    sketches = []
    for values in (ref, cur):
        s = kll_doubles_sketch(k)
        s.update(values)
        sketches.append(s)
    sr, sc = sketches
    interior = np.unique(sr.get_quantiles(list(np.arange(1, grid) / grid)))
    lo, hi = (
        min(sr.get_min_value(), sc.get_min_value()),
        max(sr.get_max_value(), sc.get_max_value()),
    )
    interior = interior[(interior > lo) & (interior < hi)]
    eps = kll_doubles_sketch.get_normalized_rank_error(k, True)
    return NumericBins.from_cdf(
        np.concatenate(([lo], interior, [hi])),
        sr.get_cdf(list(interior), inclusive=True)[:-1],
        sc.get_cdf(list(interior), inclusive=True)[:-1],
        n_ref=ref.size,
        n_cur=cur.size,
        ref_mean=float(ref.mean()),
        ref_sd=float(ref.std()),
        cur_mean=float(cur.mean()),
        cur_sd=float(cur.std()),
        ref_rank_error=eps,
        cur_rank_error=eps,
    )


def _exact_on_same_grid(bins: NumericBins, ref: np.ndarray, cur: np.ndarray) -> NumericBins:
    inner = bins.edges[1:-1]
    r, c = np.sort(ref), np.sort(cur)
    rc = np.diff(np.concatenate(([0], np.searchsorted(r, inner, "right"), [r.size])))
    cc = np.diff(np.concatenate(([0], np.searchsorted(c, inner, "right"), [c.size])))
    return NumericBins(
        bins.edges,
        rc.astype(float),
        cc.astype(float),
        float(ref.mean()),
        float(ref.std()),
        float(cur.mean()),
        float(cur.std()),
    )


# Methods whose raw form does not bin (the bound then includes the grid's discretisation).
UNBINNED = {"ks", "wasserstein", "cramervonmises"}


def _raw_and_sketch_agree(method: DriftMethod, shift: float) -> tuple[float, float, float]:
    ref, cur = rng.normal(0, 1, 20000), rng.normal(shift, 1, 15000)
    bins = _sketch_bins(ref, cur)
    assert method.on_bins is not None and method.sketch_bound is not None
    sketched = method.on_bins(bins).statistic
    if method.id in UNBINNED:
        assert method.on_sample is not None
        raw = method.on_sample(NumericSample.prepare(ref), NumericSample.prepare(cur)).statistic
    else:
        raw = method.on_bins(_exact_on_same_grid(bins, ref, cur)).statistic
    bound = method.sketch_bound(bins)
    assert abs(sketched - raw) <= bound, (sketched, raw, bound)
    return sketched, raw, bound


def raw_and_sketch_agree_within_bound(method: DriftMethod) -> None:
    if not numeric(method):
        return
    for shift in (0.0, 0.3):
        _raw_and_sketch_agree(method, shift)


def exact_counts_have_no_sketch_error(method: DriftMethod) -> None:
    """With exact counts (rank error 0) the binned form of a histogram method equals its raw form,
    and the KS bound reduces to the widest bin."""
    if not numeric(method):
        return
    r, c = NumericSample.prepare(REF), NumericSample.prepare(SHIFTED)
    bins = NumericBins.from_samples(r, c, 10)
    assert method.on_bins is not None and method.on_sample is not None
    if method.id not in UNBINNED:
        assert method.on_bins(bins).statistic == pytest.approx(method.on_sample(r, c).statistic)
        assert method.sketch_bound is not None and method.sketch_bound(bins) == 0.0


def categorical_counts_equal_raw_values(method: DriftMethod) -> None:
    if not categorical(method):
        return
    assert method.on_counts is not None
    raw = method.on_counts(CategoricalCounts.from_values(REF_CAT, SHIFTED_CAT))
    names, counts = np.unique(REF_CAT, return_counts=True)
    names2, counts2 = np.unique(SHIFTED_CAT, return_counts=True)
    from_profile = method.on_counts(
        CategoricalCounts.from_dicts(
            dict(zip(names, counts, strict=True)), dict(zip(names2, counts2, strict=True))
        )
    )
    assert raw == from_profile


# --- cross-checks against scipy (or hand computation where scipy has none) ----------------


def _deciles(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ten reference-decile bins, counted independently of the package's binning code."""
    r = np.sort(ref)
    right = np.unique(
        np.append(r[np.ceil(np.arange(1, 10) * r.size / 10).astype(int) - 1], max(r[-1], cur.max()))
    )
    p = np.bincount(np.searchsorted(right, ref, "left"), minlength=right.size) / ref.size
    q = np.bincount(np.searchsorted(right, cur, "left"), minlength=right.size) / cur.size
    return p, q


def _check_ks(ref: np.ndarray, cur: np.ndarray, found) -> None:
    expected = stats.ks_2samp(ref, cur)
    assert found.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert found.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def _check_psi(ref: np.ndarray, cur: np.ndarray, found) -> None:
    p, q = _deciles(ref, cur)
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert found.statistic == pytest.approx(float(np.sum((q - p) * np.log(q / p))), rel=1e-12)


def _check_js(ref: np.ndarray, cur: np.ndarray, found) -> None:
    p, q = _deciles(ref, cur)
    assert found.statistic == pytest.approx(float(jensenshannon(p, q, base=2)), rel=1e-9)


def _check_wasserstein(ref: np.ndarray, cur: np.ndarray, found) -> None:
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert found.statistic == pytest.approx(expected, rel=1e-9)


def _check_chisquare(ref: np.ndarray, cur: np.ndarray, found) -> None:
    p, q = _deciles(ref, cur)
    table = np.vstack([p * ref.size, q * cur.size])
    table = table[:, table.sum(axis=0) > 0]
    result = stats.chi2_contingency(table, correction=False)
    assert found.statistic == pytest.approx(result.statistic, rel=1e-9)
    assert found.p_value == pytest.approx(result.pvalue, rel=1e-6)


def _check_hellinger(ref: np.ndarray, cur: np.ndarray, found) -> None:
    p, q = _deciles(ref, cur)
    expected = np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2)
    assert found.statistic == pytest.approx(float(expected), rel=1e-12)


def _check_cvm(ref: np.ndarray, cur: np.ndarray, found) -> None:
    expected = stats.cramervonmises_2samp(ref, cur)
    assert found.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert found.p_value == pytest.approx(expected.pvalue, rel=1e-9)


SCIPY_CHECKS: dict[str, Callable] = {
    "ks": _check_ks,
    "psi": _check_psi,
    "jensenshannon": _check_js,
    "wasserstein": _check_wasserstein,
    "chisquare": _check_chisquare,
    "hellinger": _check_hellinger,
    "cramervonmises": _check_cvm,
}


def statistic_matches_scipy_or_hand_computation(method: DriftMethod) -> None:
    assert method.id in SCIPY_CHECKS, "every method needs a cross-check in SCIPY_CHECKS"
    if not numeric(method):
        return
    check = SCIPY_CHECKS[method.id]
    for ref, cur in (
        (REF[:700], SHIFTED[:400]),
        (REF[:300], SAME_DISTRIBUTION[:350]),
        (np.round(REF[:500], 1), np.round(SHIFTED[:450], 1)),
    ):  # ties
        assert method.on_sample is not None
        check(ref, cur, method.on_sample(NumericSample.prepare(ref), NumericSample.prepare(cur)))


def _expected_on_counts(method_id: str, r: np.ndarray, c: np.ndarray) -> tuple[float, float | None]:
    p, q = r / r.sum(), c / c.sum()
    if method_id == "chisquare":
        result = stats.chi2_contingency(np.vstack([r, c]), correction=False)
        return float(result.statistic), float(result.pvalue)
    if method_id == "jensenshannon":
        return float(jensenshannon(p, q, base=2)), None
    if method_id == "hellinger":
        return float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2)), None
    if method_id == "psi":
        p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
        return float(np.sum((q - p) * np.log(q / p))), None
    raise AssertionError(f"add a categorical cross-check for {method_id}")


def categorical_statistic_matches_scipy_or_hand_computation(method: DriftMethod) -> None:
    if not categorical(method):
        return
    assert method.on_counts is not None
    for ref, cur in ((REF_CAT, SHIFTED_CAT), (REF_CAT[:1500], REF_CAT[1500:])):
        counts = CategoricalCounts.from_values(ref, cur)
        found = method.on_counts(counts)
        statistic, p_value = _expected_on_counts(method.id, counts.ref, counts.cur)
        assert found.statistic == pytest.approx(statistic, rel=1e-9)
        if p_value is not None:
            assert found.p_value == pytest.approx(p_value, rel=1e-6, abs=1e-300)


CHECKS = [
    identical_samples_do_not_drift,
    same_distribution_does_not_drift,
    shifted_sample_drifts,
    empty_input_is_a_clear_error,
    all_missing_input_is_a_clear_error,
    missing_values_are_dropped,
    infinite_values_are_a_clear_error,
    constant_input_has_a_defined_result,
    single_value_gives_a_result_or_a_clear_error,
    output_is_deterministic,
    raw_and_sketch_agree_within_bound,
    exact_counts_have_no_sketch_error,
    categorical_counts_equal_raw_values,
    statistic_matches_scipy_or_hand_computation,
    categorical_statistic_matches_scipy_or_hand_computation,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("method_id", list(METHODS))
def test_method_conforms(method_id: str, check: Callable[[DriftMethod], None]) -> None:
    check(METHODS[method_id])


def test_every_method_describes_itself() -> None:
    for method_id, method in METHODS.items():
        assert method_id == method.id and method_id.isalpha() and method_id.islower()
        assert method.name and method.summary and method.feature_types
        assert (method.on_sample is not None) == bool(method.feature_types & NUMERIC_TYPES)
        assert (method.on_counts is not None) == bool(method.feature_types & CATEGORICAL_TYPES)
