"""Jensen-Shannon distance (base 2): sqrt of the mean KL divergence of each distribution from
their mixture. In [0, 1], symmetric, a metric; equals `scipy.spatial.distance.jensenshannon(p, q,
base=2)`. Numeric data uses ten reference-decile bins. No p-value.
Sketch form: bounded by the corner interval of `divergence.py`.
"""

from __future__ import annotations

import math

import numpy as np

from watchkeeper.detectors.drift import divergence


def _xlogx_over(x: np.ndarray, mix: np.ndarray) -> np.ndarray:
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, x * np.log(safe / np.where(mix > 0, mix, 1.0)), 0.0)


def term(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per-bin Jensen-Shannon divergence in bits."""
    mix = (p + q) / 2
    return (_xlogx_over(p, mix) + _xlogx_over(q, mix)) / (2 * math.log(2))


METHOD = divergence.root_distance_method(
    id="jensenshannon",
    name="Jensen-Shannon distance",
    summary="square root of the JS divergence (base 2) of binned distributions, in [0, 1]",
    term=term,
)
