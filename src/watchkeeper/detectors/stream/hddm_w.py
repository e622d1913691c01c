"""HDDM_W, the Hoeffding drift detection method on weighted (EWMA) averages (Frías-Blanco, 2015)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from watchkeeper.detectors.stream._base import _StreamDetector, _WarningMixin, require

# The state is five samples of three numbers each, (ewma, started, sum of squared weights), then
# the two cut points. Samples: all values, before/after the increase cut, before/after the decrease
# cut.
_ALL, _INC1, _INC2, _DEC1, _DEC2 = 0, 3, 6, 9, 12
_INC_CUT, _DEC_CUT = 15, 16


@njit(cache=True)
def _blank(st, at):
    st[at] = 0.0
    st[at + 1] = 0.0
    st[at + 2] = 1.0


@njit(cache=True)
def _restart(st):
    for at in range(0, 15, 3):
        _blank(st, at)
    st[_INC_CUT] = np.inf
    st[_DEC_CUT] = -np.inf


@njit(cache=True)
def _add(st, at, x, lam, keep, lam_sq, keep_sq):
    st[at] = x if st[at + 1] == 0.0 else lam * x + keep * st[at]
    st[at + 1] = 1.0
    st[at + 2] = lam_sq + keep_sq * st[at + 2]


@njit(cache=True)
def _bound(weights, confidence):
    return math.sqrt(weights * math.log(1.0 / confidence) / 2.0)


@njit(cache=True)
def _changed(st, before, after, confidence):
    if st[before + 1] == 0.0 or st[after + 1] == 0.0:
        return False
    return st[after] - st[before] > _bound(st[before + 2] + st[after + 2], confidence)


@njit(cache=True)
def _kernel(xs, start, hits, flags, st, drift_confidence, warning_confidence, lam, two_sided):
    n_hits = 0
    keep = 1.0 - lam
    lam_sq = lam * lam
    keep_sq = (1.0 - lam) ** 2
    i = start
    while i < xs.shape[0]:
        if flags[0]:
            _restart(st)
            flags[0] = 0
            flags[1] = 0
        x = xs[i]
        _add(st, _ALL, x, lam, keep, lam_sq, keep_sq)
        eps = _bound(st[_ALL + 2], drift_confidence)
        if st[_ALL] + eps < st[_INC_CUT]:
            st[_INC_CUT] = st[_ALL] + eps
            st[_INC1 : _INC1 + 3] = st[_ALL : _ALL + 3]
            _blank(st, _INC2)
        else:
            _add(st, _INC2, x, lam, keep, lam_sq, keep_sq)
        drift = False
        warning = False
        if _changed(st, _INC1, _INC2, drift_confidence):
            drift = True
        elif _changed(st, _INC1, _INC2, warning_confidence):
            warning = True
        eps = _bound(st[_ALL + 2], drift_confidence)
        if st[_ALL] - eps > st[_DEC_CUT]:
            st[_DEC_CUT] = st[_ALL] - eps
            st[_DEC1 : _DEC1 + 3] = st[_ALL : _ALL + 3]
            _blank(st, _DEC2)
        else:
            _add(st, _DEC2, x, lam, keep, lam_sq, keep_sq)
        if two_sided:
            if _changed(st, _DEC2, _DEC1, drift_confidence):
                drift = True
            elif _changed(st, _DEC2, _DEC1, warning_confidence):
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


class HDDM_W(_WarningMixin, _StreamDetector):
    """HDDM_W is HDDM_A with exponentially weighted means, so recent values count more.

    It keeps an EWMA (weight ``lambda_val``) of all values and of the values after the point
    where the EWMA plus its McDiarmid bound was lowest; drift when the recent EWMA exceeds the
    older one by more than the bound at ``drift_confidence`` (warning at ``warning_confidence``).
    ``two_sided_test=True`` also watches decreases. Values must lie in [0, 1]. Reacts faster than
    HDDM_A to abrupt changes. Same arithmetic as River's HDDM_W (tested).

    False alarms of the defaults on stable streams (``benchmarks/detector_eval.py
    --calibrate``, 10 streams of 100,000 points each):
    - Bernoulli(0.1) errors: no false alarm in 1,000,000 points.

    >>> import numpy as np
    >>> from watchkeeper.detectors.stream import HDDM_W
    >>> rng = np.random.default_rng(8)
    >>> errors = np.concatenate([rng.random(2000) < 0.1, rng.random(1000) < 0.4])
    >>> hits = HDDM_W().update_many(errors)
    >>> len(hits) >= 1 and 2000 <= int(hits[0]) < 2100
    True
    """

    input_kind = "unit"

    def __init__(
        self,
        drift_confidence: float = 0.001,
        warning_confidence: float = 0.005,
        lambda_val: float = 0.05,
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
        require(0.0 < lambda_val <= 1.0, "lambda_val", lambda_val, "an EWMA weight in (0, 1]")
        require(isinstance(two_sided_test, bool), "two_sided_test", two_sided_test, "True or False")
        self.drift_confidence = float(drift_confidence)
        self.warning_confidence = float(warning_confidence)
        self.lambda_val = float(lambda_val)
        self.two_sided_test = two_sided_test
        super().__init__()

    _kernel = staticmethod(_kernel)

    def _fresh_args(self) -> tuple[Any, ...]:
        st = np.zeros(17)
        _restart(st)
        return (
            st,
            self.drift_confidence,
            self.warning_confidence,
            self.lambda_val,
            self.two_sided_test,
        )
