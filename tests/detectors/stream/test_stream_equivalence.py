"""update(x) one value at a time and update_many over any chunking flag the same points."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.detectors.stream import DETECTORS


def _stream(kind: str, seed: int, n: int, shift: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    half = n // 2
    if kind == "real":
        return np.concatenate([rng.normal(0, 1, half), rng.normal(shift, 1 + abs(shift), n - half)])
    p = min(0.9, 0.1 + abs(shift) / 5)
    return np.concatenate([rng.random(half) < 0.1, rng.random(n - half) < p]).astype(float)


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(sorted(DETECTORS)),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 3000),
    shift=st.floats(-3, 3),
    cuts=st.lists(st.integers(0, 3000), max_size=6),
)
def test_any_chunking_and_the_scalar_path_give_the_same_detections(
    name: str, seed: int, n: int, shift: float, cuts: list[int]
) -> None:
    cls = DETECTORS[name]
    xs = _stream(cls.input_kind, seed, n, shift)
    whole = cls().update_many(xs).tolist()
    bounds = sorted({0, n, *(c for c in cuts if c <= n)})
    d = cls()
    got: list[int] = []
    for a, b in itertools.pairwise(bounds):
        got += (d.update_many(xs[a:b]) + a).tolist()
    assert got == whole
    s = cls()
    scalar = []
    for i, x in enumerate(xs):
        s.update(float(x))
        if s.drift_detected:
            scalar.append(i)
    assert scalar == whole


def test_more_detections_than_the_kernel_buffer_holds_are_all_returned() -> None:
    from watchkeeper.detectors.stream import CUSUM
    from watchkeeper.detectors.stream._base import _HIT_CAPACITY

    xs = np.full(3 * _HIT_CAPACITY + 17, 5.0)  # every point is a 5-sd jump from a fresh start
    hits = CUSUM(target_mean=0.0, target_sd=1.0, h=1.0).update_many(xs)
    assert hits.tolist() == list(range(len(xs)))
