"""Data-quality checks on plain values and counts; each returns a `QualityResult`.

`CHECKS` is the explicit catalogue (method id -> function); signals/ runs them per policy.
"""

from __future__ import annotations

from collections.abc import Callable

from watchkeeper.detectors.quality.constant import (
    constant_feature,
    constant_feature_arrays,
    fingerprint,
    stuck_feature,
)
from watchkeeper.detectors.quality.domain import (
    out_of_range,
    out_of_range_counts,
    unseen_categories,
)
from watchkeeper.detectors.quality.duplicates import duplicate_events, duplicate_events_counts
from watchkeeper.detectors.quality.freshness import freshness
from watchkeeper.detectors.quality.label_delay import label_delay
from watchkeeper.detectors.quality.missing import (
    count_missing,
    missing_rate_change,
    missing_rate_change_arrays,
)
from watchkeeper.detectors.quality.result import QualityResult
from watchkeeper.detectors.quality.schema import schema_change

CHECKS: dict[str, Callable[..., QualityResult]] = {
    "missing_rate": missing_rate_change,
    "out_of_range": out_of_range_counts,
    "unseen_categories": unseen_categories,
    "schema_change": schema_change,
    "constant": constant_feature,
    "stuck": stuck_feature,
    "duplicates": duplicate_events_counts,
    "freshness": freshness,
    "label_delay": label_delay,
}

__all__ = [
    "CHECKS",
    "QualityResult",
    "constant_feature",
    "constant_feature_arrays",
    "count_missing",
    "duplicate_events",
    "duplicate_events_counts",
    "fingerprint",
    "freshness",
    "label_delay",
    "missing_rate_change",
    "missing_rate_change_arrays",
    "out_of_range",
    "out_of_range_counts",
    "schema_change",
    "stuck_feature",
    "unseen_categories",
]
