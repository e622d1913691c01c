"""Hellinger distance: sqrt(1/2 * sum (sqrt(p) - sqrt(q))^2), in [0, 1].

Bounded, symmetric and defined with empty bins (no smoothing needed, unlike PSI). Numeric data
uses ten reference-decile bins. No p-value.
Sketch form: bounded by the corner interval of `divergence.py`.
"""

from __future__ import annotations

import numpy as np

from watchkeeper.detectors.drift import divergence


def term(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (np.sqrt(p) - np.sqrt(q)) ** 2 / 2


METHOD = divergence.root_distance_method(
    id="hellinger",
    name="Hellinger distance",
    summary="Hellinger distance of binned distributions, in [0, 1]",
    term=term,
)
