"""Input checks shared by the performance metrics; errors name the argument and the row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from watchkeeper.core.errors import InputError

ArrayLike = Sequence[float] | np.ndarray


def numbers(values: ArrayLike, name: str, *, ndim: int = 1) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"not numeric ({exc})", field=name, expected="numbers") from None
    if arr.ndim != ndim:
        raise InputError(f"has {arr.ndim} dimensions", field=name,
                         expected=f"a {ndim}-dimensional array")
    if arr.size == 0:
        return arr
    bad = np.flatnonzero(~np.isfinite(arr).reshape(arr.shape[0], -1).all(axis=1))
    if bad.size:
        raise InputError(f"value {arr[bad[0]]!r} is not a finite number", field=name,
                         row=int(bad[0]), expected="finite numbers (drop rows without a value)")
    return arr


def same_length(a: np.ndarray, b: np.ndarray | Sequence[object], a_name: str, b_name: str) -> None:
    if len(a) != len(b):
        raise InputError(f"{len(b)} rows but {a_name} has {len(a)}", field=b_name,
                         expected=f"one entry per row of {a_name}")


def probabilities(values: ArrayLike, name: str, *, ndim: int = 1) -> np.ndarray:
    arr = numbers(values, name, ndim=ndim)
    if arr.size == 0:
        return arr
    bad = np.flatnonzero(((arr < 0) | (arr > 1)).reshape(arr.shape[0], -1).any(axis=1))
    if bad.size:
        raise InputError(f"value {arr[bad[0]]!r} is not a probability", field=name,
                         row=int(bad[0]), expected="probabilities in [0, 1]")
    return arr


def binary_labels(values: ArrayLike, name: str) -> np.ndarray:
    arr = numbers(values, name)
    bad = np.flatnonzero((arr != 0) & (arr != 1))
    if bad.size:
        raise InputError(f"label {arr[bad[0]]!r} is not 0 or 1", field=name, row=int(bad[0]),
                         expected="binary labels 0/1")
    return arr.astype(np.int8)


def segments_of(segments: Sequence[object] | np.ndarray | None, n: int) -> np.ndarray | None:
    if segments is None:
        return None
    seg = np.asarray(segments, dtype=object).astype(str)
    if seg.shape != (n,):
        raise InputError(f"{seg.size} segment labels for {n} rows", field="segments",
                         expected="one segment label per row")
    return seg


def segment_rows(seg: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(segment, row indices) for every segment, from one sort (not one scan per segment, which
    a column with thousands of distinct values would turn quadratic)."""
    names, inverse = np.unique(seg, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(names.size + 1))
    return [(str(names[i]), order[bounds[i]:bounds[i + 1]]) for i in range(names.size)]
