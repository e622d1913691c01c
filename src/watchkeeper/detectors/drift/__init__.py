"""Univariate drift: one module per method, one explicit catalogue, one shared routine.

from watchkeeper.detectors.drift import METHODS, compare, measure, decide
"""

from watchkeeper.detectors.drift.base import Direction, DriftMethod, Statistic
from watchkeeper.detectors.drift.catalogue import METHODS, get_method
from watchkeeper.detectors.drift.defaults import default_method
from watchkeeper.detectors.drift.routine import (
    DriftReport,
    DriftRules,
    FeatureDrift,
    Measurement,
    compare,
    dataset_drift,
    decide,
    measure,
)
from watchkeeper.detectors.drift.samples import CategoricalCounts, NumericBins, NumericSample

__all__ = [
    "METHODS",
    "CategoricalCounts",
    "Direction",
    "DriftMethod",
    "DriftReport",
    "DriftRules",
    "FeatureDrift",
    "Measurement",
    "NumericBins",
    "NumericSample",
    "Statistic",
    "compare",
    "dataset_drift",
    "decide",
    "default_method",
    "get_method",
    "measure",
]
