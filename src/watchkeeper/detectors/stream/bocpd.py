"""Bayesian online change-point detection (Adams & MacKay, 2007), Normal model, constant hazard."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from scipy.special import gammaln

from watchkeeper.detectors.stream._base import _StreamDetector, is_int, require


@njit(cache=True)
def _restart(post, mu, beta, st, prior_mean, prior_beta):
    post[:] = 0.0
    post[0] = 1.0
    mu[0] = prior_mean
    beta[0] = prior_beta
    st[:] = 0  # st[0] = points since restart, st[1] = run lengths in play


@njit(cache=True)
def _kernel(
    xs,
    start,
    hits,
    flags,
    post,
    mu,
    beta,
    st,
    logc,
    pred,
    hazard,
    kappa0,
    alpha0,
    prior_mean,
    prior_beta,
    lag,
    threshold,
    min_points,
):
    n_hits = 0
    cap = post.shape[0]
    i = start
    while i < xs.shape[0]:
        if flags[0]:
            _restart(post, mu, beta, st, prior_mean, prior_beta)
            flags[0] = 0
        x = xs[i]
        m = min(st[1] + 1, cap)
        # Student-t predictive of x under each run length r (r values seen in that run); the
        # log-gamma part depends on r only and is precomputed in logc.
        top = -np.inf
        for r in range(m):
            kappa = kappa0 + r
            alpha = alpha0 + 0.5 * r
            nu = 2.0 * alpha
            scale2 = beta[r] * (kappa + 1.0) / (alpha * kappa)
            d = x - mu[r]
            lp = (
                logc[r]
                - 0.5 * math.log(scale2)
                - 0.5 * (nu + 1.0) * math.log1p(d * d / (nu * scale2))
            )
            pred[r] = lp
            if lp > top:
                top = lp
        # Grow every run by x or start a new one. At the cap the longest run's mass joins the
        # next longest (which carries the statistics of the last cap - 1 values), so a long
        # stable run keeps its weight instead of vanishing.
        total = 0.0
        change = 0.0
        carry = 0.0
        last = min(m, cap - 1)
        for r in range(m - 1, -1, -1):
            w = post[r] * math.exp(pred[r] - top)
            change += w
            if r + 1 > last:
                carry = w * (1.0 - hazard)
                total += carry
            else:
                kappa = kappa0 + r
                post[r + 1] = w * (1.0 - hazard) + carry
                carry = 0.0
                total += w * (1.0 - hazard)
                beta[r + 1] = beta[r] + kappa * (x - mu[r]) ** 2 / (2.0 * (kappa + 1.0))
                mu[r + 1] = (kappa * mu[r] + x) / (kappa + 1.0)
        post[0] = change * hazard
        mu[0] = prior_mean
        beta[0] = prior_beta
        total += post[0]
        short = 0.0
        for r in range(last + 1):
            post[r] /= total
            if r < lag:
                short += post[r]
        st[1] = last
        st[0] += 1
        if st[0] >= min_points and short > threshold:
            flags[0] = 1
            hits[n_hits] = i
            n_hits += 1
            if n_hits == hits.shape[0]:
                i += 1
                break
        i += 1
    flags[2] = i
    return n_hits


class BOCPD(_StreamDetector):
    """Bayesian online change-point detection with a constant hazard and a Normal model.

    The posterior over the current run length r (values since the last change) is updated
    exactly at every point: each run either grows, weighted by the Student-t predictive
    probability of the new value under a Normal model with unknown mean and variance
    (Normal-Gamma prior: ``prior_mean``, ``prior_kappa``, ``prior_alpha``, ``prior_beta``), or
    ends, with probability ``hazard`` (one change per ``1 / hazard`` points a priori). Run
    lengths are bounded by ``max_run_length`` (longer runs are merged into the longest, which
    keeps the statistics of the last ``max_run_length - 1`` values), so a point costs
    O(max_run_length). Drift is flagged when the posterior probability that the run is
    shorter than ``lag`` exceeds ``threshold``, once ``min_points`` values have been seen since
    the last (re)start. The default prior suits roughly standardised data (unit scale); set
    ``prior_mean``/``prior_beta`` to the stream's scale otherwise.

    False alarms of the defaults on stable streams (``benchmarks/detector_eval.py
    --calibrate``, 10 streams of 100,000 points each):
    - N(0, 1): 0.90 false alarms per 10,000 points (one per 11,111);
    - Bernoulli(0.1) errors: 15.75 false alarms per 10,000 points (one per 635).

    >>> import numpy as np
    >>> from watchkeeper.detectors.stream import BOCPD
    >>> rng = np.random.default_rng(10)
    >>> stream = np.concatenate([rng.normal(0.0, 1.0, 500), rng.normal(3.0, 1.0, 200)])
    >>> hits = BOCPD().update_many(stream)
    >>> len(hits) == 1 and 500 <= int(hits[0]) < 520
    True
    """

    def __init__(
        self,
        hazard: float = 1 / 1000,
        threshold: float = 0.8,
        lag: int = 60,
        min_points: int = 120,
        max_run_length: int = 200,
        prior_mean: float = 0.0,
        prior_kappa: float = 1.0,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
    ) -> None:
        require(0.0 < hazard < 1.0, "hazard", hazard, "a probability in (0, 1)")
        require(0.0 < threshold < 1.0, "threshold", threshold, "a probability in (0, 1)")
        require(
            is_int(max_run_length) and max_run_length >= 2,
            "max_run_length",
            max_run_length,
            "an integer >= 2",
        )
        require(
            is_int(lag) and 1 <= lag < max_run_length,
            "lag",
            lag,
            f"an integer in [1, max_run_length ({max_run_length}))",
        )
        require(
            is_int(min_points) and min_points > lag,
            "min_points",
            min_points,
            f"an integer > lag ({lag})",
        )
        require(math.isfinite(prior_mean), "prior_mean", prior_mean, "a finite number")
        for name, v in (
            ("prior_kappa", prior_kappa),
            ("prior_alpha", prior_alpha),
            ("prior_beta", prior_beta),
        ):
            require(0.0 < v < math.inf, name, v, "a number > 0")
        self.hazard = float(hazard)
        self.threshold = float(threshold)
        self.lag = int(lag)
        self.min_points = int(min_points)
        self.max_run_length = int(max_run_length)
        self.prior_mean = float(prior_mean)
        self.prior_kappa = float(prior_kappa)
        self.prior_alpha = float(prior_alpha)
        self.prior_beta = float(prior_beta)
        super().__init__()

    _kernel = staticmethod(_kernel)

    def _fresh_args(self) -> tuple[Any, ...]:
        cap = self.max_run_length
        nu = 2.0 * self.prior_alpha + np.arange(cap)
        logc = gammaln((nu + 1.0) / 2.0) - gammaln(nu / 2.0) - 0.5 * np.log(nu * np.pi)
        post, mu, beta = np.zeros(cap), np.zeros(cap), np.zeros(cap)
        st = np.zeros(2, dtype=np.int64)
        _restart(post, mu, beta, st, self.prior_mean, self.prior_beta)
        return (
            post,
            mu,
            beta,
            st,
            logc,
            np.zeros(cap),
            self.hazard,
            self.prior_kappa,
            self.prior_alpha,
            self.prior_mean,
            self.prior_beta,
            self.lag,
            self.threshold,
            self.min_points,
        )

    @property
    def run_length_posterior(self) -> np.ndarray:
        """P(run length = r | values so far), r = 0 .. max_run_length - 1 (a copy)."""
        return self._args[0].copy()
