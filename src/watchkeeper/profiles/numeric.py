"""Mergeable profile of one numeric column: exact counts and moments plus a KLL quantile sketch."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from datasketches import kll_doubles_sketch

# k=200 is DataSketches' default: about 1.3% single-rank error at 99% confidence, ~5 KB per sketch.
KLL_K = 200


def _empty_kll() -> kll_doubles_sketch:
    return kll_doubles_sketch(KLL_K)


@dataclass(slots=True)
class NumericProfile:
    """Counts, nulls, min/max and mean/variance are exact (to float rounding) and merge exactly;
    quantiles, CDF and histograms come from the KLL sketch within `rank_error`."""

    count: int = 0  # non-null values
    nulls: int = 0
    min: float = math.inf
    max: float = -math.inf
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean (Welford/Chan)
    sketch: kll_doubles_sketch = field(default_factory=_empty_kll)

    kind = "numeric"

    # -- building -------------------------------------------------------------------------
    def update(self, values: np.ndarray) -> None:
        """Fold an array in. NaN (and None in object arrays) count as nulls."""
        arr = np.asarray(values)
        if arr.dtype == object:
            arr = np.array([np.nan if v is None else v for v in arr], dtype=np.float64)
        arr = arr.astype(np.float64, copy=False)
        nan = np.isnan(arr)
        n_null = int(nan.sum())
        if n_null:
            arr = arr[~nan]
        self.nulls += n_null
        if arr.size == 0:
            return
        mean = float(arr.mean())
        m2 = float(np.square(arr - mean).sum())
        self._combine(arr.size, mean, m2, float(arr.min()), float(arr.max()))
        # The binding takes only writeable C-contiguous arrays (Arrow hands out read-only ones).
        self.sketch.update(np.require(arr, np.float64, ['C', 'W']))

    def _combine(self, n: int, mean: float, m2: float, lo: float, hi: float) -> None:
        # Chan et al.'s parallel update: exact merge of (n, mean, M2) pairs.
        total = self.count + n
        if self.count == 0:
            self.mean, self.m2 = mean, m2
        else:
            delta = mean - self.mean
            self.mean += delta * n / total
            self.m2 += m2 + delta * delta * self.count * n / total
        self.count = total
        self.min = min(self.min, lo)
        self.max = max(self.max, hi)

    def merge_in(self, other: NumericProfile) -> None:
        """Merge `other` into this profile (other is left unchanged)."""
        self.nulls += other.nulls
        if other.count:
            self._combine(other.count, other.mean, other.m2, other.min, other.max)
            self.sketch.merge(other.sketch)

    def copy(self) -> NumericProfile:
        return NumericProfile(
            self.count,
            self.nulls,
            self.min,
            self.max,
            self.mean,
            self.m2,
            kll_doubles_sketch.deserialize(self.sketch.serialize()),
        )

    # -- reading --------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.count + self.nulls

    @property
    def null_fraction(self) -> float:
        return self.nulls / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1); NaN with fewer than two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else math.nan

    @property
    def std(self) -> float:
        return math.sqrt(self.variance) if self.count > 1 else math.nan

    @property
    def rank_error(self) -> float:
        """Normalised rank error of a single quantile/CDF query (99% confidence); 0 while the
        sketch still holds every value."""
        if not self.sketch.is_estimation_mode():
            return 0.0
        return float(self.sketch.normalized_rank_error(False))

    def quantiles(self, qs: np.ndarray | list[float]) -> np.ndarray:
        """Values at normalised ranks `qs` (0..1); NaN when there are no values."""
        q = np.asarray(qs, dtype=np.float64)
        if self.count == 0:
            return np.full(q.shape, np.nan)
        return np.asarray(self.sketch.get_quantiles(q.tolist()), dtype=np.float64)

    def cdf(self, points: np.ndarray | list[float]) -> np.ndarray:
        """Estimated P(X <= p) for each point (any order, duplicates allowed)."""
        return self._ranks(points, inclusive=True)

    def _ranks(self, points: np.ndarray | list[float], *, inclusive: bool) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64)
        if self.count == 0:
            return np.zeros(p.shape)
        # The sketch needs unique increasing split points; map back to the caller's order.
        uniq, inverse = np.unique(p, return_inverse=True)
        ranks = np.asarray(self.sketch.get_cdf(uniq.tolist(), inclusive)[:-1], dtype=np.float64)
        return ranks[inverse].reshape(p.shape)

    def histogram(self, edges: np.ndarray | list[float]) -> np.ndarray:
        """Estimated counts per bin with numpy.histogram's semantics: bins [e_i, e_i+1), the last
        one closed; values outside [edges[0], edges[-1]] are not counted. Edges may be +-inf."""
        e = np.asarray(edges, dtype=np.float64)
        if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
            raise ValueError("edges must be a strictly increasing 1-d array of at least 2 values")
        below = self._ranks(e, inclusive=False)  # P(X < e)
        at_or_below_last = self._ranks(e[-1:], inclusive=True)[0]
        upper = below[1:].copy()
        upper[-1] = at_or_below_last
        # Sketch ranks are sums of integer weights over n, so counts are whole numbers.
        return np.rint(np.clip(upper - below[:-1], 0.0, None) * self.count)
