"""Every entry of the streaming catalogue passes the same checks; test ids name class and check."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.stream import DETECTORS

CATALOGUE = sorted(DETECTORS.items())
IDS = [cls.__name__ for _, cls in CATALOGUE]


def stable(cls: type, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if cls.input_kind == "real":
        return rng.normal(0.0, 1.0, n)
    return (rng.random(n) < 0.1).astype(float)


def shifted(cls: type, n: int, seed: int) -> np.ndarray:
    """`n` stable points, then an unmistakable change (a 4-sd mean shift, or errors 10% -> 60%)."""
    rng = np.random.default_rng(seed)
    if cls.input_kind == "real":
        after = rng.normal(4.0, 1.0, 2000)
    else:
        after = (rng.random(2000) < 0.6).astype(float)
    return np.concatenate([stable(cls, n, seed + 1), after])


def scalar_hits(det: object, xs: np.ndarray) -> list[int]:
    out = []
    for i, x in enumerate(xs):
        det.update(x)  # type: ignore[attr-defined]
        if det.drift_detected:  # type: ignore[attr-defined]
            out.append(i)
    return out


@pytest.fixture(params=CATALOGUE, ids=IDS)
def entry(request: pytest.FixtureRequest) -> tuple[str, type]:
    return request.param


def test_catalogue_ids_are_one_lowercase_word(entry: tuple[str, type]) -> None:
    name, _ = entry
    assert name.isalpha() and name.islower()


def test_protocol(entry: tuple[str, type]) -> None:
    _, cls = entry
    d = cls()
    assert d.drift_detected is False
    assert d.update(1.0) is None
    assert isinstance(d.drift_detected, bool)
    hits = d.update_many(np.zeros(5))
    assert hits.dtype == np.int64 and hits.ndim == 1
    with pytest.raises(AttributeError):
        d.drift_detected = True
    if hasattr(d, "warning_detected"):
        assert isinstance(d.warning_detected, bool)
        with pytest.raises(AttributeError):
            d.warning_detected = True


def test_empty_input_detects_nothing_and_keeps_state(entry: tuple[str, type]) -> None:
    _, cls = entry
    xs = shifted(cls, 1000, 5)
    a = cls()
    a.update_many(xs[:700])
    assert a.update_many([]).tolist() == []
    whole = cls().update_many(xs)
    assert a.update_many(xs[700:]).tolist() == (whole[whole >= 700] - 700).tolist()


def test_reset_forgets_everything(entry: tuple[str, type]) -> None:
    _, cls = entry
    xs = shifted(cls, 1500, 7)
    d = cls()
    first = d.update_many(xs)
    d.reset()
    assert d.drift_detected is False
    assert d.update_many(xs).tolist() == first.tolist()


def test_deterministic(entry: tuple[str, type]) -> None:
    _, cls = entry
    xs = shifted(cls, 3000, 9)
    assert cls().update_many(xs).tolist() == cls().update_many(xs).tolist()


def test_no_detection_on_a_constant_stream(entry: tuple[str, type]) -> None:
    _, cls = entry
    for value in (0.0, 1.0):
        assert cls().update_many(np.full(20_000, value)).tolist() == []


def test_detects_an_obvious_shift_soon_after_it(entry: tuple[str, type]) -> None:
    _, cls = entry
    n = 3000
    hits = cls().update_many(shifted(cls, n, 13))
    after = hits[hits >= n]
    assert len(after) >= 1 and after[0] < n + 300, hits


def test_scalar_path_equals_update_many_across_chunks(entry: tuple[str, type]) -> None:
    _, cls = entry
    xs = np.concatenate([shifted(cls, 2000, 17), shifted(cls, 1000, 19)])
    whole = cls().update_many(xs).tolist()
    assert scalar_hits(cls(), xs) == whole
    chunked = cls()
    got: list[int] = []
    cuts = [0, 1, 2, 333, 1999, 2000, 2001, 4100, len(xs)]
    for a, b in itertools.pairwise(cuts):
        got += (chunked.update_many(xs[a:b]) + a).tolist()
    assert got == whole


def test_nan_and_inf_are_refused_with_their_position_and_nothing_is_consumed(
    entry: tuple[str, type],
) -> None:
    _, cls = entry
    xs = shifted(cls, 1000, 23)
    for bad in (math.nan, math.inf, -math.inf):
        d = cls()
        poisoned = xs.copy()
        poisoned[1500] = bad
        with pytest.raises(InputError) as err:
            d.update_many(poisoned)
        assert err.value.row == 1500 and err.value.expected
        with pytest.raises(InputError):
            d.update(bad)
        assert d.update_many(xs).tolist() == cls().update_many(xs).tolist()


def test_refuses_non_numbers_and_2d_arrays(entry: tuple[str, type]) -> None:
    _, cls = entry
    d = cls()
    with pytest.raises(InputError):
        d.update("high")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        d.update_many(["0", "x"])
    with pytest.raises(InputError, match="1-D"):
        d.update_many(np.zeros((3, 2)))


def test_binary_and_unit_detectors_refuse_values_outside_their_domain(
    entry: tuple[str, type],
) -> None:
    _, cls = entry
    if cls.input_kind == "real":
        pytest.skip("accepts any finite number")
    with pytest.raises(InputError) as err:
        cls().update_many([0.0, 1.0, 1.5])
    assert err.value.row == 2
    with pytest.raises(InputError):
        cls().update(-0.1)
    cls().update(True)


BAD_ARGS: dict[str, list[dict[str, object]]] = {
    "adwin": [{"delta": 0.0}, {"delta": 1.5}, {"clock": 0}, {"max_buckets": 0},
              {"min_window_length": 2.5}, {"grace_period": -1}],
    "pagehinkley": [{"mode": "sideways"}, {"threshold": 0.0}, {"alpha": 0.0}, {"delta": -1.0},
                    {"min_instances": 0}],
    "cusum": [{"mode": "UP"}, {"h": -1.0}, {"k": -0.1}, {"warm_start": 1},
              {"target_sd": 1.0}, {"target_mean": 0.0, "target_sd": 0.0}],
    "ewma": [{"lam": 0.0}, {"lam": 1.5}, {"width": 0.0}, {"warm_start": 0},
             {"target_sd": 1.0}],
    "kswin": [{"alpha": 0.0}, {"alpha": 1.0}, {"stat_size": 1}, {"window_size": 30},
              {"seed": -1}],
    "ddm": [{"warm_start": 0}, {"warning_threshold": 0.0},
            {"warning_threshold": 3.0, "drift_threshold": 2.0}],
    "eddm": [{"beta": 0.0}, {"alpha": 0.8, "beta": 0.9}, {"alpha": 1.0}, {"warm_start": 0}],
    "hddma": [{"drift_confidence": 0.0}, {"drift_confidence": 0.01, "warning_confidence": 0.001},
              {"two_sided_test": "yes"}],
    "hddmw": [{"drift_confidence": 1.0}, {"lambda_val": 0.0}, {"two_sided_test": 1}],
    "bocpd": [{"hazard": 0.0}, {"threshold": 1.0}, {"lag": 0}, {"max_run_length": 1},
              {"min_points": 5, "lag": 10}, {"prior_beta": 0.0}, {"prior_mean": math.nan}],
}  # fmt: skip


def test_bad_arguments_are_refused_naming_the_argument_and_what_is_valid(
    entry: tuple[str, type],
) -> None:
    name, cls = entry
    assert BAD_ARGS[name], "every catalogue entry needs bad-argument cases"
    for kwargs in BAD_ARGS[name]:
        with pytest.raises(InputError) as err:
            cls(**kwargs)
        assert err.value.field in kwargs and err.value.expected, kwargs


def test_every_catalogue_entry_has_bad_argument_cases() -> None:
    assert set(BAD_ARGS) == set(DETECTORS)
