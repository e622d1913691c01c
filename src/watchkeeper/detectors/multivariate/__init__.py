"""Multivariate drift: a domain classifier and PCA reconstruction error, each naming the
features that contribute most. Inputs are numeric 2-D arrays (encode categoricals first)."""

from __future__ import annotations

from collections.abc import Callable

from watchkeeper.detectors.multivariate._data import DEFAULT_MAX_ROWS
from watchkeeper.detectors.multivariate.domain_classifier import (
    MultivariateResult,
    domain_classifier,
)
from watchkeeper.detectors.multivariate.pca import pca_reconstruction

METHODS: dict[str, Callable[..., MultivariateResult]] = {
    "domain_classifier": domain_classifier,
    "pca_reconstruction": pca_reconstruction,
}

__all__ = [
    "DEFAULT_MAX_ROWS",
    "METHODS",
    "MultivariateResult",
    "domain_classifier",
    "pca_reconstruction",
]
