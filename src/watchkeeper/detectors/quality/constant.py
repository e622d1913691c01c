"""Constant or stuck feature: a feature that stopped capturing data.

Two symptoms of a broken pipe that a distribution test may miss or misread:

* ``constant_feature`` — the current window holds a single distinct value (zero variance)
  where the reference varied. Catastrophic: the model sees a frozen input.
* ``stuck_feature`` — the same window summary (a fingerprint such as (count of distinct values,
  min, max, mean)) repeats across ``min_windows`` consecutive windows: an upstream job keeps
  serving a cached batch.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.quality._checks import count
from watchkeeper.detectors.quality.result import QualityResult

CONSTANT_METHOD = "constant"
STUCK_METHOD = "stuck"


def constant_feature(
    reference_distinct: int,
    current_distinct: int,
    current_total: int,
    *,
    feature: str | None = None,
    current_value: object = None,
) -> QualityResult:
    """Flag a window with one distinct value where the reference had more than one.

    The statistic is the number of distinct non-missing values in the current window;
    the effect size is 1 when the feature froze, else 0.
    """
    ref_d = count(reference_distinct, "reference_distinct")
    cur_d = count(current_distinct, "current_distinct")
    cur_n = count(current_total, "current_total")
    name = feature or "value"
    frozen = cur_n > 1 and cur_d == 1 and ref_d > 1
    shown = f" ({current_value!r})" if current_value is not None else ""
    evidence = (
        f"{name}: all {cur_n:,} values identical{shown}, reference had {ref_d:,} distinct values."
        if frozen
        else f"{name}: {cur_d:,} distinct values in {cur_n:,} rows (reference {ref_d:,})."
    )
    return QualityResult(
        method=CONSTANT_METHOD, statistic=float(cur_d), threshold=1.0,
        effect_size=1.0 if frozen else 0.0, flagged=frozen, severity=1.0 if frozen else 0.0,
        feature=feature, catastrophic=frozen, evidence=evidence,
        details={"reference_distinct": ref_d, "current_distinct": cur_d, "current_total": cur_n},
    )


def constant_feature_arrays(
    reference: Sequence[object] | np.ndarray,
    current: Sequence[object] | np.ndarray,
    *,
    feature: str | None = None,
) -> QualityResult:
    """Same check on raw values (missing values are ignored)."""
    ref, cur = _present(reference), _present(current)
    value = cur[0] if len(set(cur)) == 1 else None
    return constant_feature(
        len(set(ref)), len(set(cur)), len(cur), feature=feature,
        current_value=value.item() if isinstance(value, np.generic) else value,
    )


def stuck_feature(
    fingerprints: Sequence[Hashable | None],
    *,
    feature: str | None = None,
    min_windows: int = 3,
) -> QualityResult:
    """Flag a feature whose latest ``min_windows`` window fingerprints are identical.

    ``fingerprints`` are in window order, the newest last; None marks an empty window, which
    breaks a run (an empty window is the missing-rate check's business).
    """
    if isinstance(min_windows, bool) or not isinstance(min_windows, int) or min_windows < 2:
        raise InputError(f"got {min_windows!r}", field="min_windows", expected="an integer >= 2")
    run = 0
    if fingerprints and fingerprints[-1] is not None:
        last = fingerprints[-1]
        for fp in reversed(fingerprints):
            if fp != last:
                break
            run += 1
    stuck = run >= min_windows
    name = feature or "value"
    evidence = (
        f"{name}: identical window summary in the last {run} consecutive windows "
        f"(flags at {min_windows})."
    )
    return QualityResult(
        method=STUCK_METHOD, statistic=float(run), threshold=float(min_windows),
        effect_size=float(run) / min_windows, flagged=stuck, severity=1.0 if stuck else 0.0,
        feature=feature, catastrophic=stuck, evidence=evidence,
        details={"run": run, "fingerprint": repr(fingerprints[-1]) if fingerprints else None},
    )


def fingerprint(values: Sequence[float] | np.ndarray) -> tuple[int, float, float, float] | None:
    """(count, min, max, mean) of the finite values; None for an empty window."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return None
    return (int(arr.size), float(arr.min()), float(arr.max()), float(arr.mean()))


def _present(values: Sequence[object] | np.ndarray) -> list[object]:
    arr = np.asarray(values, dtype=object).ravel()
    return [v for v in arr if v is not None and not (isinstance(v, float) and v != v)]
