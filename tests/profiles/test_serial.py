from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.profiles import WindowProfile, build_profile


def _profile() -> WindowProfile:
    rng = np.random.default_rng(3)
    return build_profile(
        {"age": rng.normal(40, 10, 5000), "city": rng.choice(["a", "b"], 5000).astype(object)},
        {"age": "numeric", "city": "categorical", "missing": "numeric"},
        prediction=rng.choice([0, 1], 5000),
        confidence=rng.random(5000),
        latency=rng.exponential(20, 5000),
        segments={"region": rng.choice(["eu", "us"], 5000).astype(object)},
    )


def test_round_trip_keeps_every_statistic() -> None:
    p = _profile()
    q = WindowProfile.from_bytes(p.to_bytes())
    assert q.n == p.n == 5000
    assert q.features.keys() == p.features.keys()
    assert q.features["missing"].nulls == 5000
    assert (
        q.features["age"].quantiles([0.1, 0.9]).tolist()
        == p.features["age"].quantiles([0.1, 0.9]).tolist()
    )
    assert q.features["age"].mean == p.features["age"].mean
    assert q.prediction is not None and q.prediction.counts() == p.prediction.counts()  # type: ignore[union-attr]
    assert q.segments["region"].counts() == p.segments["region"].counts()
    assert q.to_bytes() == p.to_bytes()


def test_unknown_version_and_garbage_are_refused() -> None:
    blob = bytearray(_profile().to_bytes())
    blob[4] = 99
    with pytest.raises(ValueError, match="version 99 is not supported"):
        WindowProfile.from_bytes(bytes(blob))
    with pytest.raises(ValueError, match="bad magic"):
        WindowProfile.from_bytes(b"hello world, not a profile")
    with pytest.raises(ValueError, match="too short"):
        WindowProfile.from_bytes(b"WK")
