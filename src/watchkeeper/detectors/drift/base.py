"""What a drift method is and what it returns.

A method is a small module: pure functions plus one `DriftMethod` description (name, accepted
feature types, default threshold and its direction, how far its sketch form may be from its raw
form). The shared routine in `routine.py` runs the per-feature loop, the multiple-testing
correction, the minimum-effect rule and dataset drift, so a method only computes its statistic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from watchkeeper.core.enums import FeatureType
from watchkeeper.detectors.drift.samples import CategoricalCounts, NumericBins, NumericSample


class Direction(StrEnum):
    """How a method's threshold is read. Written into every result so nobody has to guess."""

    P_VALUE_BELOW = "p_value < threshold"  # a hypothesis test: threshold is alpha
    STATISTIC_AT_LEAST = "statistic >= threshold"  # a distance: threshold is a distance


@dataclass(frozen=True, slots=True)
class Statistic:
    """A method's raw finding before the shared rules decide whether it is drift."""

    statistic: float
    p_value: float | None = None


NUMERIC_TYPES = frozenset({FeatureType.NUMERIC, FeatureType.DATETIME})
CATEGORICAL_TYPES = frozenset({FeatureType.CATEGORICAL, FeatureType.BOOLEAN, FeatureType.TEXT})


@dataclass(frozen=True, slots=True)
class DriftMethod:
    """One entry of the `METHODS` catalogue.

    Hooks (each pure, each optional only where the feature type is not accepted):
    - `on_sample(ref, cur)`: the raw form, on two prepared (sorted, NaN-free) numeric samples.
    - `on_bins(bins)`: the binned/sketch form, on a shared grid of reference quantile edges.
    - `on_counts(counts)`: categorical counts (raw categorical data is counted first, so
      counting *is* the raw form; there is no separate sketch error for categories that a
      frequent-items sketch reports exactly).
    - `sketch_bound(bins)`: how far `on_bins` may be from the raw statistic, given the rank error
      the bins carry (0 for exact counts); see each module's docstring for the derivation.
    """

    id: str
    name: str
    feature_types: frozenset[FeatureType]
    default_threshold: float
    direction: Direction
    summary: str
    on_sample: Callable[[NumericSample, NumericSample], Statistic] | None
    on_bins: Callable[[NumericBins], Statistic] | None
    on_counts: Callable[[CategoricalCounts], Statistic] | None
    sketch_bound: Callable[[NumericBins], float] | None

    def accepts(self, feature_type: FeatureType) -> bool:
        return feature_type in self.feature_types

    def is_significant(self, statistic: float, p_value: float | None, threshold: float) -> bool:
        """The method's own verdict, before the minimum-effect rule."""
        if self.direction is Direction.P_VALUE_BELOW:
            return p_value is not None and p_value < threshold
        return statistic >= threshold
