"""ADWIN: adaptive windowing (Bifet & Gavaldà, 2007), the ADWIN2 exponential-histogram version."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from watchkeeper.detectors.stream._base import _StreamDetector, is_int, require

_DEFAULT_MAX_BUCKETS = 5
_ROWS = 64  # row r holds buckets of 2**r points: enough for any stream that fits in int64

# Layout: bucket j of row r lives at r * (max_buckets + 1) + j in the flat arrays tot (sums) and
# var (sums of squared deviations); cnt[r] buckets are in use, oldest first. sf = [total,
# variance, width] of the window; si = [rows in use, ticks since the last check]. Flat arrays and
# one inlined loop: numba calls between small functions cost more than the arithmetic here.


@njit(cache=True)
def _restart(tot, var, cnt, sf, si):
    tot[:] = 0.0
    var[:] = 0.0
    cnt[:] = 0
    sf[:] = 0.0
    si[0] = 1
    si[1] = 0


@njit(cache=True)
def _drop_oldest(tot, var, cnt, sf, si, cap):
    last = si[0] - 1
    b = last * cap
    size = float(1 << last)
    u = tot[b]
    v = var[b]
    mu = u / size
    sf[2] -= size
    sf[0] -= u
    width = sf[2]
    mu_w = sf[0] / width
    sf[1] -= v + size * width * (mu - mu_w) * (mu - mu_w) / (size + width)
    c = cnt[last]
    for j in range(c - 1):
        tot[b + j] = tot[b + j + 1]
        var[b + j] = var[b + j + 1]
    cnt[last] = c - 1
    if c == 1:
        si[0] = last


@njit(cache=True)
def _cut_found(tot, var, cnt, sf, si, delta, min_len, cap):
    """Scan every split of the window, oldest first; drop the oldest bucket at the first cut."""
    width = sf[2]
    dprime = math.log(2.0 * math.log(width) / delta)
    vw = sf[1] / width
    third = 2.0 / 3.0 * dprime
    # Screen: skip the exact test where a division-free bound proves it fails. With
    # a = n0 - min + 1, b = n1 - min + 1 the bound without its (positive) second term is
    # |u0 n1 - u1 n0| / (n0 n1) > sqrt(2 vw dprime (a + b) / (a b)); squared, it needs no division.
    # The slack (1e-15 absolute on the numerator, 1e-6 relative on the right) exceeds every
    # rounding error of either form, so the decision is the exact test's, bit for bit.
    screen = 2.0 * vw * dprime * (1.0 - 1e-6)
    n0 = 0.0
    n1 = width
    u0 = 0.0
    u1 = sf[0]
    for row in range(si[0] - 1, -1, -1):
        size = float(1 << row)
        b = row * cap
        c = cnt[row]
        for k in range(c):
            n0 += size
            n1 -= size
            t = tot[b + k]
            u0 += t
            u1 -= t
            if row == 0 and k == c - 1:
                return False
            if n1 >= min_len and n0 >= min_len:
                a0 = n0 - min_len + 1.0
                a1 = n1 - min_len + 1.0
                num = abs(u0 * n1 - u1 * n0) + 1e-15 * (abs(u0) * n1 + abs(u1) * n0)
                nn = n0 * n1
                if num * num * a0 * a1 < nn * nn * screen * (a0 + a1):
                    continue
                m = 1.0 / a0 + 1.0 / a1
                eps = math.sqrt(2.0 * m * vw * dprime) + third * m
                if abs(u0 / n0 - u1 / n1) > eps:
                    _drop_oldest(tot, var, cnt, sf, si, cap)
                    return True
    return False


@njit(cache=True, inline="always")
def _run(xs, start, hits, flags, tot, var, cnt, sf, si, delta, clock, cap, min_len, grace):
    # The window's sums live in locals inside the loop (written back before every scan and at
    # the end): numba cannot prove the arrays do not alias, so keeping them in sf/si would
    # reload them after every store.
    max_buckets = cap - 1
    total, vsum, width = sf[0], sf[1], sf[2]
    rows, tick = si[0], si[1]
    n_hits = 0
    i = start
    while i < xs.shape[0]:
        if flags[0]:
            _restart(tot, var, cnt, sf, si)
            total, vsum, width, rows, tick = 0.0, 0.0, 0.0, 1, 0
            flags[0] = 0
        x = xs[i]
        c = cnt[0]
        tot[c] = x
        var[c] = 0.0
        cnt[0] = c + 1
        width += 1.0
        inc = 0.0
        if width > 1.0:
            dv = x - total / (width - 1.0)
            inc = (width - 1.0) * dv * dv / width
        vsum += inc
        total += x
        row = 0
        # Merge the two oldest buckets of a full row into one of the next row, as far as needed.
        while cnt[row] == cap:
            b = row * cap
            size = float(1 << row)
            inv = 1.0 / size  # exact: a power of two, so t * inv == t / size bit for bit
            t0 = tot[b]
            t1 = tot[b + 1]
            mu0 = t0 * inv
            mu1 = t1 * inv
            merged = var[b] + var[b + 1] + size * 0.5 * (mu0 - mu1) * (mu0 - mu1)
            if row + 1 >= rows:
                rows = row + 2
            nxt = cnt[row + 1]
            tot[b + cap + nxt] = t0 + t1
            var[b + cap + nxt] = merged
            cnt[row + 1] = nxt + 1
            for j in range(cap - 2):
                tot[b + j] = tot[b + j + 2]
                var[b + j] = var[b + j + 2]
            cnt[row] = cap - 2
            if nxt + 1 <= max_buckets:
                break
            row += 1
        tick += 1
        if tick == clock:
            tick = 0
            if width > grace:
                sf[0], sf[1], sf[2], si[0] = total, vsum, width, rows
                while _cut_found(tot, var, cnt, sf, si, delta, min_len, cap):
                    flags[0] = 1
                total, vsum, width, rows = sf[0], sf[1], sf[2], si[0]
        if flags[0]:
            hits[n_hits] = i
            n_hits += 1
            if n_hits == hits.shape[0]:
                i += 1
                break
        i += 1
    sf[0], sf[1], sf[2], si[0], si[1] = total, vsum, width, rows, tick
    flags[2] = i
    return n_hits


@njit(cache=True)
def _kernel_default(
    xs, start, hits, flags, tot, var, cnt, sf, si, delta, clock, max_buckets, min_len, grace
):
    # Inlined with the bucket count as a constant, the merge loop unrolls: twice as fast as
    # with the count as a run-time value, which _kernel_any pays for other max_buckets.
    return _run(xs, start, hits, flags, tot, var, cnt, sf, si, delta, clock,
                _DEFAULT_MAX_BUCKETS + 1, min_len, grace)  # fmt: skip


@njit(cache=True)
def _kernel_any(
    xs, start, hits, flags, tot, var, cnt, sf, si, delta, clock, max_buckets, min_len, grace
):
    return _run(xs, start, hits, flags, tot, var, cnt, sf, si, delta, clock, max_buckets + 1,
                min_len, grace)  # fmt: skip


class ADWIN(_StreamDetector):
    """ADWIN keeps a window of recent values that it shrinks whenever two parts of it differ.

    The window is stored as an exponential histogram (at most ``max_buckets`` buckets of each size
    1, 2, 4, ...), so memory is logarithmic in its length. Every ``clock`` points, each split of
    the window into an older part W0 and a newer part W1 (both at least ``min_window_length``
    long) is tested: if the means differ by more than a Hoeffding/Bernstein-style bound at
    confidence ``delta``, the oldest bucket is dropped and drift is flagged. After a detection the
    next update starts a fresh window (as River's ADWIN does). Any real values are accepted; the
    bound is scale-free because it uses the window's own variance.

    The arithmetic follows River's ADWIN operation by operation, so on the same stream the two
    flag the same points (tested).

    False alarms of the defaults on stable streams (``benchmarks/detector_eval.py
    --calibrate``, 10 streams of 100,000 points each):
    - N(0, 1): 0.01 false alarms per 10,000 points (one per 1,000,000);
    - Bernoulli(0.1) errors: no false alarm in 1,000,000 points.

    >>> import numpy as np
    >>> from watchkeeper.detectors.stream import ADWIN
    >>> rng = np.random.default_rng(7)
    >>> stream = np.concatenate([rng.normal(0.0, 1.0, 2000), rng.normal(1.0, 1.0, 2000)])
    >>> hits = ADWIN().update_many(stream)
    >>> 2000 <= int(hits[0]) < 2200
    True
    >>> d = ADWIN()
    >>> flagged = []
    >>> for i, x in enumerate(stream):
    ...     d.update(x)
    ...     if d.drift_detected:
    ...         flagged.append(i)
    >>> flagged == hits.tolist()
    True
    """

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = _DEFAULT_MAX_BUCKETS,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        require(0.0 < delta < 1.0, "delta", delta, "a confidence in (0, 1)")
        require(is_int(clock) and clock >= 1, "clock", clock, "an integer >= 1")
        require(
            is_int(max_buckets) and max_buckets >= 1, "max_buckets", max_buckets, "an integer >= 1"
        )
        require(
            is_int(min_window_length) and min_window_length >= 1,
            "min_window_length",
            min_window_length,
            "an integer >= 1",
        )
        require(
            is_int(grace_period) and grace_period >= 0,
            "grace_period",
            grace_period,
            "an integer >= 0",
        )
        self.delta = float(delta)
        self.clock = int(clock)
        self.max_buckets = int(max_buckets)
        self.min_window_length = int(min_window_length)
        self.grace_period = int(grace_period)
        if self.max_buckets == _DEFAULT_MAX_BUCKETS:
            self._kernel = _kernel_default
        super().__init__()

    _kernel = staticmethod(_kernel_any)

    def _fresh_args(self) -> tuple[Any, ...]:
        tot = np.zeros(_ROWS * (self.max_buckets + 1))
        var = np.zeros(_ROWS * (self.max_buckets + 1))
        cnt = np.zeros(_ROWS, dtype=np.int64)
        sf = np.zeros(3)
        si = np.zeros(2, dtype=np.int64)
        _restart(tot, var, cnt, sf, si)
        return (
            tot,
            var,
            cnt,
            sf,
            si,
            self.delta,
            self.clock,
            self.max_buckets,
            float(self.min_window_length),
            float(self.grace_period),
        )

    @property
    def width(self) -> int:
        """Number of values in the current window."""
        return int(self._args[3][2])

    @property
    def estimation(self) -> float:
        """Mean of the current window (0.0 when empty)."""
        sf = self._args[3]
        return float(sf[0] / sf[2]) if sf[2] else 0.0
