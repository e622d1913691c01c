"""Duplicate events: share of events whose id was already seen in the window.

Ingest is idempotent on event_id, so duplicates do not corrupt profiles, but a rising share
means a producer retries or replays; the statistic is ``(n - n_unique) / n``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.quality._checks import count, fraction, part_of
from watchkeeper.detectors.quality.result import QualityResult
from watchkeeper.detectors.severity import severity

METHOD = "duplicates"


def duplicate_events_counts(
    total: int, duplicates: int, *, max_share: float = 0.01, examples: Sequence[str] = ()
) -> QualityResult:
    """From counts: ``duplicates`` of ``total`` events repeated an earlier event id."""
    total, duplicates = count(total, "total"), count(duplicates, "duplicates")
    part_of(duplicates, total, "duplicates", "total")
    fraction(max_share, "max_share", allow_zero=False)
    share = duplicates / total if total else 0.0
    evidence = (
        f"{duplicates:,} of {total:,} events ({share:.2%}) repeat an earlier event id"
        + (f", e.g. {', '.join(examples)}" if examples else "")
        + f"; flags at {max_share:.2%}."
    )
    return QualityResult(
        method=METHOD, statistic=share, threshold=max_share, effect_size=share,
        flagged=total > 0 and share >= max_share, severity=severity(share, max_share),
        evidence=evidence,
        details={"total": total, "duplicates": duplicates, "examples": list(examples)},
    )


def duplicate_events(
    event_ids: Sequence[object] | np.ndarray, *, max_share: float = 0.01
) -> QualityResult:
    """From raw ids; missing ids (None/NaN) are a schema error, not a duplicate."""
    arr = np.asarray(event_ids, dtype=object).ravel()
    for i, v in enumerate(arr):
        if v is None or (isinstance(v, float) and v != v):
            raise InputError("event id is missing", row=i, field="event_id",
                             expected="a non-empty id on every event")
    uniq, counts = np.unique(arr.astype(str), return_counts=True)
    repeated = uniq[counts > 1]
    return duplicate_events_counts(
        int(arr.size), int(arr.size - uniq.size), max_share=max_share,
        examples=[str(x) for x in repeated[:5]],
    )
