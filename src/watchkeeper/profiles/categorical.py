"""Mergeable profile of one categorical (or boolean) column: exact counts and nulls, a
frequent-items sketch for per-category counts and an HLL sketch for the distinct count."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from datasketches import frequent_items_error_type, frequent_strings_sketch, hll_sketch, hll_union

# 2^10 slots: counts stay exact while a window has fewer than ~768 distinct categories.
FREQ_LG_MAX_MAP = 10
HLL_LG_K = 12  # ~1.6% relative error on the distinct count, 2.6 KB compact


@dataclass(frozen=True, slots=True)
class CategoricalColumn:
    """A categorical column already dictionary-encoded (e.g. by Arrow): `codes` index into
    `categories`, -1 marks a null. Folding it in costs one bincount instead of hashing strings."""

    codes: np.ndarray
    categories: list[str]

    def __len__(self) -> int:
        return int(self.codes.size)


def _empty_items() -> frequent_strings_sketch:
    return frequent_strings_sketch(FREQ_LG_MAX_MAP)


def _empty_hll() -> hll_sketch:
    return hll_sketch(HLL_LG_K)


def category_text(value: object) -> str:
    """The one string form of a category: booleans as 'true'/'false', everything else str()."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


@dataclass(slots=True)
class CategoricalProfile:
    count: int = 0  # non-null values
    nulls: int = 0
    items: frequent_strings_sketch = field(default_factory=_empty_items)
    hll: hll_sketch = field(default_factory=_empty_hll)

    kind = "categorical"

    def update(self, values: np.ndarray | CategoricalColumn) -> None:
        """Fold values in. None/NaN count as nulls; booleans become 'true'/'false'."""
        if isinstance(values, CategoricalColumn):
            codes = np.asarray(values.codes)
            self.nulls += int((codes < 0).sum())
            tally = np.bincount(codes[codes >= 0], minlength=len(values.categories))
            self.update_counts(values.categories, tally)
            return
        arr = np.asarray(values)
        if arr.dtype == object:
            null = np.array([v is None or (isinstance(v, float) and v != v) for v in arr], bool)
        elif arr.dtype.kind == "f":
            null = np.isnan(arr)
        else:
            null = np.zeros(arr.shape, bool)
        self.nulls += int(null.sum())
        present = arr[~null]
        if present.size == 0:
            return
        uniq, tally = np.unique(np.array([category_text(v) for v in present]), return_counts=True)
        self.update_counts(uniq.tolist(), tally)

    def update_counts(self, categories: list[str], counts: np.ndarray) -> None:
        """Fold pre-aggregated (category, count) pairs in; zero counts are skipped."""
        for name, c in zip(categories, np.asarray(counts).tolist(), strict=True):
            if c > 0:
                self.items.update(name, int(c))
                # DataSketches skips empty strings; a prefix keeps "" a countable category.
                self.hll.update("=" + name)
                self.count += int(c)

    def merge_in(self, other: CategoricalProfile) -> None:
        self.count += other.count
        self.nulls += other.nulls
        self.items.merge(other.items)
        union = hll_union(HLL_LG_K)
        union.update(self.hll)
        union.update(other.hll)
        self.hll = union.get_result()

    def copy(self) -> CategoricalProfile:
        return CategoricalProfile(
            self.count,
            self.nulls,
            frequent_strings_sketch.deserialize(self.items.serialize()),
            hll_sketch.deserialize(self.hll.serialize_compact()),
        )

    # -- reading --------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.count + self.nulls

    @property
    def null_fraction(self) -> float:
        return self.nulls / self.n if self.n else 0.0

    @property
    def error_bound(self) -> int:
        """Maximum absolute error of any count from `counts()`; 0 while the sketch has seen fewer
        distinct categories than it has slots (then every count is exact)."""
        rows = self.items.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES)
        return max((int(upper - lower) for _, _, lower, upper in rows), default=0)

    def counts(self) -> dict[str, int]:
        """Estimated count per category, most frequent first. Each estimate is within
        `error_bound` of the truth, and any category missing from the result occurred at most
        `error_bound` times."""
        rows = self.items.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES)
        return {name: int(est) for name, est, _, _ in rows}

    def frequencies(self) -> dict[str, float]:
        """counts() divided by the number of non-null values."""
        return {k: v / self.count for k, v in self.counts().items()} if self.count else {}

    @property
    def distinct(self) -> float:
        """Estimated number of distinct categories (HLL)."""
        return float(self.hll.get_estimate())
