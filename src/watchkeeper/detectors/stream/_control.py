"""In-control mean and sd for the control charts (CUSUM, EWMA): given, or learnt in a warm-up."""

from __future__ import annotations

import math

from numba import njit

from watchkeeper.detectors.stream._base import is_int, require

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


def check_in_control(target_mean: float | None, target_sd: float | None,
                     warm_start: object) -> None:
    """The charts' shared arguments: a known in-control mean and sd together, or a warm-up."""
    require(
        (target_mean is None) == (target_sd is None),
        "target_sd",
        target_sd,
        "target_mean and target_sd given together, or neither",
    )
    if target_mean is not None:
        require(math.isfinite(float(target_mean)), "target_mean", target_mean, "a finite number")
        require(0.0 < float(target_sd) < math.inf, "target_sd", target_sd,  # type: ignore[arg-type]
                "a number > 0")
    else:
        require(is_int(warm_start) and warm_start >= 2, "warm_start", warm_start,  # type: ignore[operator]
                "an integer >= 2 (values used to learn mean and sd)")


def in_control(target_mean: float | None, target_sd: float | None) -> tuple[bool, float, float]:
    """(known, mu, sd): the given in-control values, or placeholders the warm-up replaces."""
    if target_mean is None or target_sd is None:
        return False, 0.0, 1.0
    return True, float(target_mean), float(target_sd)
