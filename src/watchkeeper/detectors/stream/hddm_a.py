"""HDDM_A, the Hoeffding drift detection method on averages (Frías-Blanco et al., 2015)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from watchkeeper.detectors.stream._base import _StreamDetector, _WarningMixin, require


@njit(cache=True)
def _restart(st):
    st[:] = 0.0  # (n, mean) of: all values, the cut at the minimum, the cut at the maximum


@njit(cache=True)
def _bound(n, confidence):
    return math.sqrt(1.0 / (2.0 * n) * math.log(1.0 / confidence))


@njit(cache=True)
def _shifted(n_all, mean_all, n_cut, mean_cut, confidence):
    """Hoeffding test that the mean since the cut differs from the mean up to the cut."""
    if n_cut == n_all:
        return False
    m = (n_all - n_cut) / n_cut * (1.0 / n_all)
    return mean_all - mean_cut >= math.sqrt(m / 2.0 * math.log(2.0 / confidence))


@njit(cache=True)
def _kernel(xs, start, hits, flags, st, drift_confidence, warning_confidence, two_sided):
    n_hits = 0
    i = start
    while i < xs.shape[0]:
        if flags[0]:
            _restart(st)
            flags[0] = 0
            flags[1] = 0
        st[0] += 1.0
        st[1] += (1.0 / st[0]) * (xs[i] - st[1])
        if st[2] == 0.0:
            st[2] = st[0]
            st[3] = st[1]
        if st[4] == 0.0:
            st[4] = st[0]
            st[5] = st[1]
        eps_all = _bound(st[0], drift_confidence)
        if st[3] + _bound(st[2], drift_confidence) >= st[1] + eps_all:
            st[2] = st[0]
            st[3] = st[1]
        if st[5] - _bound(st[4], drift_confidence) <= st[1] - eps_all:
            st[4] = st[0]
            st[5] = st[1]
        drift = False
        warning = False
        if _shifted(st[0], st[1], st[2], st[3], drift_confidence):
            drift = True
        elif _shifted(st[0], st[1], st[2], st[3], warning_confidence):
            warning = True
        if two_sided:
            # A fall of the mean is a rise of its negation.
            if _shifted(st[0], -st[1], st[4], -st[5], drift_confidence):
                drift = True
            elif _shifted(st[0], -st[1], st[4], -st[5], warning_confidence):
                warning = True
        flags[1] = 1 if warning else 0
        if drift:
            flags[0] = 1
            hits[n_hits] = i
            n_hits += 1
            if n_hits == hits.shape[0]:
                i += 1
                break
        i += 1
    flags[2] = i
    return n_hits


class HDDM_A(_WarningMixin, _StreamDetector):
    """HDDM_A compares the running mean with the mean up to a cut point, using Hoeffding's bound.

    The cut is the point where the mean plus its Hoeffding bound was lowest; drift when the mean
    since then exceeds it by more than the bound at ``drift_confidence`` (warning at
    ``warning_confidence``). ``two_sided_test=True`` also watches decreases. Values must lie in
    [0, 1] (errors, or any bounded score rescaled); the bound needs no variance estimate, so
    guarantees hold from the first point. Same arithmetic as River's HDDM_A (tested).

    False alarms of the defaults on stable streams (``benchmarks/detector_eval.py
    --calibrate``, 10 streams of 100,000 points each):
    - Bernoulli(0.1) errors: 0.01 false alarms per 10,000 points (one per 1,000,000).

    >>> import numpy as np
    >>> from watchkeeper.detectors.stream import HDDM_A
    >>> rng = np.random.default_rng(6)
    >>> errors = np.concatenate([rng.random(2000) < 0.1, rng.random(1000) < 0.3])
    >>> hits = HDDM_A().update_many(errors)
    >>> len(hits) >= 1 and 2000 <= int(hits[0]) < 2150
    True
    """

    input_kind = "unit"

    def __init__(
        self,
        drift_confidence: float = 0.001,
        warning_confidence: float = 0.005,
        two_sided_test: bool = False,
    ) -> None:
        require(
            0.0 < drift_confidence < 1.0,
            "drift_confidence",
            drift_confidence,
            "a probability in (0, 1)",
        )
        require(
            drift_confidence <= warning_confidence < 1.0,
            "warning_confidence",
            warning_confidence,
            f"a probability in [drift_confidence ({drift_confidence}), 1)",
        )
        require(isinstance(two_sided_test, bool), "two_sided_test", two_sided_test, "True or False")
        self.drift_confidence = float(drift_confidence)
        self.warning_confidence = float(warning_confidence)
        self.two_sided_test = two_sided_test
        super().__init__()

    _kernel = staticmethod(_kernel)

    def _fresh_args(self) -> tuple[Any, ...]:
        st = np.zeros(6)
        _restart(st)
        return (st, self.drift_confidence, self.warning_confidence, self.two_sided_test)
