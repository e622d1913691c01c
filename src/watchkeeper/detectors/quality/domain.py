"""Out-of-domain values: numbers outside the accepted range, categories never seen before.

The range is the schema's declared bounds where given (``low``/``high``), else the reference's
observed min and max. The statistic is the share of current non-missing values outside the
domain; the check flags when that share is at least ``max_share``. Examples of offending values
are returned (a few, for a person to read), never the whole column.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.quality._checks import count, fraction, part_of
from watchkeeper.detectors.quality.result import QualityResult
from watchkeeper.detectors.severity import severity

RANGE_METHOD = "out_of_range"
CATEGORY_METHOD = "unseen_categories"
MAX_EXAMPLES = 5


def out_of_range_counts(
    below: int,
    above: int,
    total: int,
    *,
    low: float,
    high: float,
    feature: str | None = None,
    max_share: float = 0.01,
    examples: Sequence[float] = (),
) -> QualityResult:
    """Range check from counts (a profile knows how many values fell outside [low, high])."""
    below, above, total = count(below, "below"), count(above, "above"), count(total, "total")
    part_of(below + above, total, "below + above", "total")
    fraction(max_share, "max_share", allow_zero=False)
    if not low <= high:
        raise InputError(f"low={low} is above high={high}", field="low", expected="low <= high")
    name = feature or "value"
    share = (below + above) / total if total else 0.0
    flagged = total > 0 and share >= max_share
    sev = severity(share, max_share)
    evidence = (
        f"{name}: {below + above:,} of {total:,} values ({share:.2%}) outside "
        f"[{low:g}, {high:g}] ({below:,} below, {above:,} above); flags at {max_share:.2%}."
    )
    if examples:
        evidence = evidence[:-1] + f"; e.g. {', '.join(f'{v:g}' for v in examples)}."
    return QualityResult(
        method=RANGE_METHOD, statistic=share, threshold=max_share, effect_size=share,
        flagged=flagged, severity=sev, feature=feature, evidence=evidence,
        details={"below": below, "above": above, "total": total, "low": low, "high": high,
                 "examples": [float(v) for v in examples]},
    )


def out_of_range(
    current: Sequence[float] | np.ndarray,
    *,
    reference: Sequence[float] | np.ndarray | None = None,
    low: float | None = None,
    high: float | None = None,
    feature: str | None = None,
    max_share: float = 0.01,
) -> QualityResult:
    """Range check on raw values. Bounds not given are taken from the reference's min/max."""
    cur = _numbers(current, "current")
    cur = cur[~np.isnan(cur)]  # missing is the missing-rate check's business; inf is out of range
    if low is None or high is None:
        if reference is None:
            raise InputError(
                "no bounds to check against", field="reference",
                expected="a reference sample, or both low and high",
            )
        ref = _numbers(reference, "reference")
        ref = ref[np.isfinite(ref)]
        if ref.size == 0:
            raise InputError("reference has no finite values", field="reference",
                             expected="at least one finite number")
        low = float(ref.min()) if low is None else low
        high = float(ref.max()) if high is None else high
    is_below, is_above = cur < low, cur > high
    outside = cur[is_below | is_above]
    return out_of_range_counts(
        int(is_below.sum()), int(is_above.sum()), int(cur.size), low=low, high=high,
        feature=feature, max_share=max_share, examples=_examples(outside.tolist()),
    )


def unseen_categories(
    reference_categories: Iterable[object],
    current_counts: Mapping[object, int],
    *,
    feature: str | None = None,
    max_share: float = 0.01,
) -> QualityResult:
    """Share of current values whose category never occurred in the reference.

    ``current_counts`` maps category to count (a profile's frequent items, or
    ``collections.Counter(values)``); missing values should not be in it.
    """
    fraction(max_share, "max_share", allow_zero=False)
    known = set(reference_categories)
    total = 0
    unseen: dict[object, int] = {}
    for cat, n in current_counts.items():
        n = count(n, f"current_counts[{cat!r}]")
        total += n
        if cat not in known:
            unseen[cat] = n
    n_unseen = sum(unseen.values())
    share = n_unseen / total if total else 0.0
    top = sorted(unseen.items(), key=lambda kv: (-kv[1], str(kv[0])))
    examples = [str(cat) for cat, _ in top[:MAX_EXAMPLES]]
    name = feature or "value"
    evidence = (
        f"{name}: {n_unseen:,} of {total:,} values ({share:.2%}) in {len(unseen)} categories "
        f"never seen in reference"
        + (f", e.g. {', '.join(repr(e) for e in examples)}" if examples else "")
        + f"; flags at {max_share:.2%}."
    )
    return QualityResult(
        method=CATEGORY_METHOD, statistic=share, threshold=max_share, effect_size=share,
        flagged=total > 0 and share >= max_share, severity=severity(share, max_share),
        feature=feature, evidence=evidence,
        details={"unseen": n_unseen, "total": total, "n_unseen_categories": len(unseen),
                 "examples": examples},
    )


def _numbers(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"not numeric ({exc})", field=name, expected="numbers") from None


def _examples(values: list[float]) -> list[float]:
    seen: list[float] = []
    for v in values:
        if v not in seen and not math.isnan(v):
            seen.append(v)
        if len(seen) == MAX_EXAMPLES:
            break
    return seen
