"""The three input forms every drift method understands.

- `NumericSample`: a raw numeric column, prepared once (NaN dropped, sorted) so that all methods
  and the effect size share one sort.
- `NumericBins`: the binned/sketch form. A shared grid of edges (reference quantiles, widened to
  cover both samples), reference and current counts per bin, mean and sd of each side, and the
  normalised rank error of the CDF values the counts came from (0 for exact counts; a KLL
  sketch's `get_normalized_rank_error(False)` when the signals layer builds them from profiles).
  Bins are closed on the right: bin 0 is [e0, e1], bin i is (e_i, e_{i+1}].
- `CategoricalCounts`: counts per category for each side (what a frequent-items sketch or a
  value count gives).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from watchkeeper.core.errors import InputError


@dataclass(frozen=True, slots=True)
class NumericSample:
    """A numeric sample ready for every method: finite float64 values sorted ascending."""

    values: np.ndarray
    mean: float
    sd: float  # population sd (ddof=0): defined for one value, and the scale n>>1 makes moot

    @property
    def n(self) -> int:
        return int(self.values.size)

    @classmethod
    def prepare(
        cls, values: np.ndarray | list[float], *, field: str = "values", owned: bool = False
    ) -> NumericSample:
        """Drop NaN (missing values are data quality's business), refuse infinities and
        emptiness, sort. `owned=True` lets a caller that owns a float64 array have it sorted in
        place instead of copied (the CLI streams 1M-row columns and saves a copy per column)."""
        array = np.asarray(values, dtype=np.float64)
        if array.ndim != 1:
            raise InputError(f"expected a 1-d array, got shape {array.shape}", field=field)
        owned = owned and array.flags.writeable  # a zero-copy Arrow buffer is read-only
        if owned:
            array.sort()
        else:
            array = np.sort(array)
        # Sorting puts NaN last, so missing values and infinities are found in O(log n)
        # instead of two more passes over a column of millions.
        present = int(np.searchsorted(array, np.nan))
        array = array[:present]
        if present == 0:
            raise InputError(
                "no non-missing values to compare", field=field, expected="at least one value"
            )
        if np.isinf(array[0]) or np.isinf(array[-1]):
            raise InputError(
                "infinite values cannot be compared",
                field=field,
                expected="finite numbers (or NaN for missing)",
            )
        mean = float(array.mean())
        sd = float(array.std())
        return cls(values=array, mean=mean, sd=sd)


@dataclass(frozen=True, slots=True)
class NumericBins:
    """Reference and current counts on one shared grid; the sketch form of two numeric samples."""

    edges: np.ndarray  # length B+1, non-decreasing; e0 <= every value <= e_B
    ref_counts: np.ndarray  # length B (float: counts from a sketch CDF need not be integers)
    cur_counts: np.ndarray
    ref_mean: float
    ref_sd: float
    cur_mean: float
    cur_sd: float
    ref_rank_error: float = 0.0  # max |CDF error| of the reference CDF values at the edges
    cur_rank_error: float = 0.0

    def __post_init__(self) -> None:
        b = self.edges.size - 1
        if b < 1 or self.ref_counts.shape != (b,) or self.cur_counts.shape != (b,):
            raise InputError(
                f"{self.edges.size} edges need {b} counts per side, got "
                f"{self.ref_counts.shape} and {self.cur_counts.shape}",
                field="bins",
                expected="len(counts) == len(edges) - 1 >= 1",
            )
        if np.any(np.diff(self.edges) < 0) or not np.isfinite(self.edges).all():
            raise InputError("edges must be finite and non-decreasing", field="bins.edges")
        if self.ref_counts.sum() <= 0 or self.cur_counts.sum() <= 0:
            raise InputError(
                "each side needs a positive total count",
                field="bins",
                expected="at least one value per side",
            )

    @property
    def n_ref(self) -> int:
        return round(float(self.ref_counts.sum()))

    @property
    def n_cur(self) -> int:
        return round(float(self.cur_counts.sum()))

    @property
    def ref_fractions(self) -> np.ndarray:
        return self.ref_counts / self.ref_counts.sum()

    @property
    def cur_fractions(self) -> np.ndarray:
        return self.cur_counts / self.cur_counts.sum()

    @classmethod
    def from_samples(cls, ref: NumericSample, cur: NumericSample, n_bins: int) -> NumericBins:
        """Exact counts on `n_bins` reference-quantile bins (fewer where quantiles tie)."""
        if n_bins < 1:
            raise InputError("n_bins must be at least 1", field="n_bins")
        r, c = ref.values, cur.values
        k = np.arange(1, n_bins)
        interior = r[np.ceil(k * r.size / n_bins).astype(np.int64) - 1] if n_bins > 1 else r[:0]
        lo, hi = min(r[0], c[0]), max(r[-1], c[-1])
        # Right edges are the distinct reference quantiles and the overall maximum; e0 is the
        # overall minimum. Where e0 equals the first right edge, bin 0 = [e0, e0] holds exactly
        # the values equal to the minimum, so a constant reference still separates from a
        # current sample above it.
        edges = np.concatenate(([lo], np.unique(np.concatenate((interior, [hi])))))
        inner = edges[1:-1]
        ref_cum = np.concatenate((np.searchsorted(r, inner, side="right"), [r.size]))
        cur_cum = np.concatenate((np.searchsorted(c, inner, side="right"), [c.size]))
        return cls(
            edges=edges,
            ref_counts=np.diff(ref_cum, prepend=0).astype(np.float64),
            cur_counts=np.diff(cur_cum, prepend=0).astype(np.float64),
            ref_mean=ref.mean,
            ref_sd=ref.sd,
            cur_mean=cur.mean,
            cur_sd=cur.sd,
        )

    @classmethod
    def from_cdf(
        cls,
        edges: np.ndarray | list[float],
        ref_cdf: np.ndarray | list[float],
        cur_cdf: np.ndarray | list[float],
        *,
        n_ref: int,
        n_cur: int,
        ref_mean: float,
        ref_sd: float,
        cur_mean: float,
        cur_sd: float,
        ref_rank_error: float = 0.0,
        cur_rank_error: float = 0.0,
    ) -> NumericBins:
        """From CDF values at the interior edges, as a quantile sketch gives them.

        `edges` runs from the smaller minimum to the larger maximum of the two samples;
        `ref_cdf[i]` is the fraction of reference values <= edges[i + 1] (so both CDF arrays
        have len(edges) - 2 entries); a KLL sketch's `get_cdf(edges[1:-1], inclusive=True)[:-1]`
        is exactly that, and its rank error is `kll_doubles_sketch.get_normalized_rank_error(k,
        True)` (about 0.0165 for k=200: the bound datasketches documents for get_cdf, at 99%
        confidence).
        """
        e = np.asarray(edges, dtype=np.float64)
        rc = np.clip(np.asarray(ref_cdf, dtype=np.float64), 0.0, 1.0)
        cc = np.clip(np.asarray(cur_cdf, dtype=np.float64), 0.0, 1.0)
        if rc.shape != (e.size - 2,) or cc.shape != (e.size - 2,):
            raise InputError(
                f"{e.size} edges need {e.size - 2} interior CDF values per side",
                field="cdf",
                expected="len(cdf) == len(edges) - 2",
            )
        # A sketch CDF is monotone; clip tiny non-monotonicity from float error all the same.
        rc, cc = np.maximum.accumulate(rc), np.maximum.accumulate(cc)
        ref_counts = np.diff(np.concatenate(([0.0], rc, [1.0]))) * n_ref
        cur_counts = np.diff(np.concatenate(([0.0], cc, [1.0]))) * n_cur
        return cls(
            edges=e,
            ref_counts=ref_counts,
            cur_counts=cur_counts,
            ref_mean=ref_mean,
            ref_sd=ref_sd,
            cur_mean=cur_mean,
            cur_sd=cur_sd,
            ref_rank_error=ref_rank_error,
            cur_rank_error=cur_rank_error,
        )

    def coarsen(self, n_bins: int) -> NumericBins:
        """Merge adjacent bins into about `n_bins` bins of equal reference mass.

        Methods calibrated on a fixed number of bins (PSI's 0.1/0.25 rule of thumb assumes about
        ten) call this, so a finer grid from a profile gives the same statistic as raw data.
        """
        if self.ref_counts.size <= n_bins:
            return self
        cum = np.cumsum(self.ref_counts) / self.ref_counts.sum()
        targets = np.arange(1, n_bins) / n_bins
        # Right edge of the bin where the reference CDF first reaches each target.
        cut = np.unique(np.searchsorted(cum, targets - 1e-12))
        cut = cut[cut < self.ref_counts.size - 1]
        starts = np.concatenate(([0], cut + 1))
        return NumericBins(
            edges=np.concatenate((self.edges[starts], self.edges[-1:])),
            ref_counts=np.add.reduceat(self.ref_counts, starts),
            cur_counts=np.add.reduceat(self.cur_counts, starts),
            ref_mean=self.ref_mean,
            ref_sd=self.ref_sd,
            cur_mean=self.cur_mean,
            cur_sd=self.cur_sd,
            ref_rank_error=self.ref_rank_error,
            cur_rank_error=self.cur_rank_error,
        )


@dataclass(frozen=True, slots=True)
class CategoricalCounts:
    """Counts per category on each side, aligned on the union of categories (sorted by name)."""

    categories: tuple[str, ...]
    ref: np.ndarray
    cur: np.ndarray

    @property
    def n_ref(self) -> int:
        return round(float(self.ref.sum()))

    @property
    def n_cur(self) -> int:
        return round(float(self.cur.sum()))

    @classmethod
    def from_dicts(
        cls, ref: Mapping[str, float], cur: Mapping[str, float], *, field: str = "counts"
    ) -> CategoricalCounts:
        for side, counts in (("reference", ref), ("current", cur)):
            bad = [k for k, v in counts.items() if not (v >= 0 and np.isfinite(v))]
            if bad:
                raise InputError(
                    f"{side} count of {bad[0]!r} is {counts[bad[0]]}",
                    field=field,
                    expected="finite counts >= 0",
                )
        categories = tuple(sorted(set(ref) | set(cur), key=str))
        r = np.array([float(ref.get(k, 0.0)) for k in categories])
        c = np.array([float(cur.get(k, 0.0)) for k in categories])
        if r.sum() <= 0 or c.sum() <= 0:
            raise InputError(
                "no non-missing values to compare",
                field=field,
                expected="at least one counted value on each side",
            )
        return cls(categories=categories, ref=r, cur=c)

    @classmethod
    def from_values(
        cls, ref: np.ndarray | list, cur: np.ndarray | list, *, field: str = "values"
    ) -> CategoricalCounts:
        """Count raw values; None and NaN are missing and not counted."""
        return cls.from_dicts(_count(ref), _count(cur), field=field)


def _count(values: np.ndarray | list) -> dict[str, float]:
    kept = [
        v
        for v in np.asarray(values, dtype=object).ravel()
        if v is not None and not (isinstance(v, float) and np.isnan(v))
    ]
    names, counts = np.unique(np.array([str(v) for v in kept], dtype=object), return_counts=True)
    return {str(k): float(n) for k, n in zip(names, counts, strict=True)}
