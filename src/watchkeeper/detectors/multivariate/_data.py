"""Shared input handling for the multivariate detectors: checks, subsampling, imputation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from watchkeeper.core.errors import InputError

# Above this many rows per side a detector works on a seeded random subsample: the tests'
# power is already saturated for the effects that matter, and fit time grows linearly.
DEFAULT_MAX_ROWS = 5_000


def matrix(values: object, name: str, n_features: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"not numeric ({exc}); encode categorical columns first", field=name,
                         expected="a 2-D numeric array (rows x features)") from None
    if arr.ndim != 2:
        raise InputError(f"has {arr.ndim} dimensions", field=name,
                         expected="a 2-D numeric array (rows x features)")
    if n_features is not None and arr.shape[1] != n_features:
        raise InputError(f"has {arr.shape[1]} columns", field=name,
                         expected=f"{n_features} columns, as the reference and feature names")
    if np.isinf(arr).any():
        row = int(np.flatnonzero(np.isinf(arr).any(axis=1))[0])
        raise InputError("infinite value", field=name, row=row, expected="finite numbers or NaN")
    return arr


def pair(
    reference: object, current: object, feature_names: Sequence[str], min_rows: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = [str(f) for f in feature_names]
    if not names:
        raise InputError("no features", field="feature_names", expected="at least one feature")
    if len(set(names)) != len(names):
        raise InputError("duplicate names", field="feature_names", expected="unique names")
    ref = matrix(reference, "reference", len(names))
    cur = matrix(current, "current", len(names))
    for name, arr in (("reference", ref), ("current", cur)):
        if arr.shape[0] < min_rows:
            raise InputError(f"{arr.shape[0]} rows", field=name,
                             expected=f"at least {min_rows} rows")
    return ref, cur, names


def subsample(arr: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    if arr.shape[0] <= max_rows:
        return arr
    return arr[np.sort(rng.choice(arr.shape[0], max_rows, replace=False))]


def reference_medians(ref: np.ndarray) -> np.ndarray:
    """Column medians of the reference (0 for an all-missing column), to impute NaN with."""
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column
            med = np.nanmedian(ref, axis=0)
    return np.where(np.isnan(med), 0.0, med)


def impute(arr: np.ndarray, fill: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(arr), fill, arr)
