"""DDM, the drift detection method of Gama et al. (2004), on a stream of model errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from watchkeeper.detectors.stream._base import _StreamDetector, _WarningMixin, is_int, require


@njit(cache=True)
def _restart(st):
    st[0] = 0.0  # n
    st[1] = 0.0  # error rate p
    st[2] = 0.0  # p at the minimum of p + s
    st[3] = 0.0  # s at that minimum
    st[4] = np.inf  # the minimum of p + s


@njit(cache=True)
def _kernel(xs, start, hits, flags, st, warm_start, warning_threshold, drift_threshold):
    n_hits = 0
    i = start
    while i < xs.shape[0]:
        if flags[0]:
            _restart(st)
            flags[0] = 0
            flags[1] = 0
        st[0] += 1.0
        n = st[0]
        st[1] += (1.0 / n) * (xs[i] - st[1])
        p = st[1]
        s = math.sqrt(p * (1.0 - p) / n)
        if n > warm_start:
            if p + s <= st[4]:
                st[2] = p
                st[3] = s
                st[4] = p + s
            flags[1] = 1 if p + s > st[2] + warning_threshold * st[3] else 0
            if p + s > st[2] + drift_threshold * st[3]:
                flags[1] = 0
                flags[0] = 1
                hits[n_hits] = i
                n_hits += 1
                if n_hits == hits.shape[0]:
                    i += 1
                    break
        i += 1
    flags[2] = i
    return n_hits


class DDM(_WarningMixin, _StreamDetector):
    """DDM watches a model's error rate ``p`` and its binomial standard deviation ``s``.

    Feed 1 for an error and 0 for a correct prediction. After ``warm_start`` values the detector
    remembers the point where ``p + s`` was lowest (``p_min``, ``s_min``); it warns when
    ``p + s > p_min + warning_threshold * s_min`` and flags drift when
    ``p + s > p_min + drift_threshold * s_min``. Only increases of the error rate are detected.
    Same arithmetic as River's DDM (tested to flag the same points).

    False alarms of the defaults on stable streams (``benchmarks/detector_eval.py
    --calibrate``, 10 streams of 100,000 points each):
    - Bernoulli(0.1) errors: 0.08 false alarms per 10,000 points (one per 125,000).

    >>> import numpy as np
    >>> from watchkeeper.detectors.stream import DDM
    >>> rng = np.random.default_rng(2)
    >>> errors = np.concatenate([rng.random(2000) < 0.1, rng.random(1000) < 0.3])
    >>> hits = DDM().update_many(errors)
    >>> int(hits[hits >= 2000][0])  # the first detection after the error rate tripled
    2040
    >>> from watchkeeper.core.errors import InputError
    >>> try:
    ...     DDM().update_many([0, 1, 2])
    ... except InputError as error:
    ...     print(error.row, error.expected)
    2 0 or 1 (1 = the model erred), as numbers or booleans
    """

    input_kind = "binary"

    def __init__(
        self, warm_start: int = 30, warning_threshold: float = 2.0, drift_threshold: float = 3.0
    ) -> None:
        require(is_int(warm_start) and warm_start >= 1, "warm_start", warm_start, "an integer >= 1")
        require(warning_threshold > 0.0, "warning_threshold", warning_threshold, "a number > 0")
        require(
            drift_threshold >= warning_threshold,
            "drift_threshold",
            drift_threshold,
            f"a number >= warning_threshold ({warning_threshold})",
        )
        self.warm_start = int(warm_start)
        self.warning_threshold = float(warning_threshold)
        self.drift_threshold = float(drift_threshold)
        super().__init__()

    _kernel = staticmethod(_kernel)

    def _fresh_args(self) -> tuple[Any, ...]:
        st = np.zeros(5)
        _restart(st)
        return (st, float(self.warm_start), self.warning_threshold, self.drift_threshold)
