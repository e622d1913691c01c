"""In-control mean and sd for the control charts (CUSUM, EWMA): given, or learnt in a warm-up."""

from __future__ import annotations

import math

from numba import njit

# State layout shared by the charts: st[0] n, st[1] mean, st[2] M2 (Welford), st[3] mu, st[4] sd.


@njit(cache=True)
def warm(st, x, warm_start):
    """Learn mean and sd from the first ``warm_start`` values; True while still learning."""
    if warm_start == 0:
        return False
    if st[0] >= warm_start:
        return False
    st[0] += 1.0
    d = x - st[1]
    st[1] += d / st[0]
    st[2] += d * (x - st[1])
    if st[0] == warm_start:
        st[3] = st[1]
        sd = math.sqrt(st[2] / (st[0] - 1.0))
        # A constant warm-up has sd 0: floor it so equal values score 0 and any other value is a
        # (very) large deviation, instead of 0/0.
        st[4] = max(sd, 1e-12 * max(1.0, abs(st[1])))
    return True
