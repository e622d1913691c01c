"""The small private base of the streaming detectors: River's protocol over one compiled kernel.

A detector keeps its whole state in a few numpy arrays and one numba kernel advances that state over
a slice of a stream. `update(x)` and `update_many(xs)` call the very same kernel, so the scalar and
the vectorised paths cannot disagree, and a stream cut into chunks anywhere gives the detections of
the whole stream (state, including "a drift was just flagged, restart before the next point", lives
in the arrays, not in Python).

Kernel contract: ``kernel(xs, start, hits, flags, *args) -> n_hits``. It processes ``xs[start:]``,
writes the index of every drift into ``hits`` (stopping early when ``hits`` is full), stores the
index of the next unprocessed point in ``flags[NEXT]`` and keeps ``flags[DRIFT]``/``flags[WARNING]``
as they stand after the last processed point. A kernel restarts its state before a point whenever
``flags[DRIFT]`` is set on entry to that point, as River's detectors do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from watchkeeper.core.errors import InputError

DRIFT, WARNING, NEXT = 0, 1, 2
_HIT_CAPACITY = 4096  # detections buffered per kernel call; bounds memory on huge streams

_EXPECTED = {
    "real": "finite numbers",
    "binary": "0 or 1 (1 = the model erred), as numbers or booleans",
    "unit": "numbers in [0, 1] (e.g. 1 = the model erred)",
}


def require(ok: bool, name: str, value: object, expected: str) -> None:
    """Refuse a bad constructor argument, saying which one and what would be accepted."""
    if not ok:
        raise InputError(f"invalid value {value!r}", field=name, expected=expected)


def is_int(v: object) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def require_choice(name: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        raise InputError(
            f"invalid value {value!r}",
            field=name,
            expected="one of " + ", ".join(map(repr, choices)),
        )


class _StreamDetector:
    """Base of the streaming change detectors: ``update``, ``drift_detected``, ``update_many``,
    ``reset``. Subclasses set ``_kernel`` and build ``self._args`` (state arrays, then parameters)
    in ``_fresh_args``."""

    input_kind: ClassVar[str] = "real"  # "real", "binary" or "unit": which values update accepts
    _kernel: ClassVar[Callable[..., int]]

    def __init__(self) -> None:
        self._one = np.zeros(1)
        self._hits = np.zeros(_HIT_CAPACITY, dtype=np.int64)
        self.reset()

    def _fresh_args(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget everything seen so far; the detector behaves as if newly built."""
        self._flags = np.zeros(3, dtype=np.int64)
        self._args = self._fresh_args()

    @property
    def drift_detected(self) -> bool:
        """True right after the point at which a change was detected (read-only)."""
        return bool(self._flags[DRIFT])

    def update(self, x: float) -> None:
        """Feed one value; then read ``drift_detected``."""
        self._one[0] = _check_scalar(x, self.input_kind)
        self._kernel(self._one, 0, self._hits, self._flags, *self._args)

    def update_many(self, xs: ArrayLike) -> NDArray[np.int64]:
        """Feed a 1-D array in order; returns the positions in ``xs`` at which drift was detected.

        Exactly equivalent to calling ``update`` on each value; the state carries over to the next
        call. A non-finite or out-of-domain value raises ``InputError`` naming its position before
        anything of ``xs`` is consumed.
        """
        arr = _check_array(xs, self.input_kind)
        found: list[NDArray[np.int64]] = []
        start = 0
        while start < arr.shape[0]:
            n = self._kernel(arr, start, self._hits, self._flags, *self._args)
            if n:
                found.append(self._hits[:n].copy())
            start = int(self._flags[NEXT])
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class _WarningMixin:
    _flags: NDArray[np.int64]

    @property
    def warning_detected(self) -> bool:
        """True while the detector sees an early sign of change (read-only)."""
        return bool(self._flags[WARNING])


def _check_scalar(x: float, kind: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InputError(f"not a number: {x!r}", field="x", expected=_EXPECTED[kind]) from None
    if (
        not math.isfinite(v)
        or (kind == "binary" and v not in (0.0, 1.0))
        or (kind == "unit" and not 0.0 <= v <= 1.0)
    ):
        raise InputError(f"got {x!r}", field="x", expected=_EXPECTED[kind])
    return v


def _check_array(xs: ArrayLike, kind: str) -> NDArray[np.float64]:
    try:
        arr = np.ascontiguousarray(xs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"not numeric: {exc}", field="xs", expected=_EXPECTED[kind]) from None
    if arr.ndim != 1:
        raise InputError(f"got an array of shape {arr.shape}", field="xs", expected="a 1-D array")
    if kind == "real":
        bad = ~np.isfinite(arr)
    elif kind == "binary":
        bad = (arr != 0.0) & (arr != 1.0)
    else:
        bad = ~((arr >= 0.0) & (arr <= 1.0))  # also catches NaN
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"value {arr[row]!r} at position {row}; nothing of this array was used",
            field="xs",
            row=row,
            expected=_EXPECTED[kind],
        )
    return arr
