"""Label delay: are ground-truth labels arriving as late as promised?

For events old enough that their label should have arrived (older than ``expected_delay``),
the statistic is the share still without a label; the check flags at ``max_overdue_share``.
The median delay of the labels that did arrive is reported alongside, so the evidence says both
"how many are late" and "how late labels typically are".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from watchkeeper.core.errors import InputError
from watchkeeper.detectors.quality._checks import fraction
from watchkeeper.detectors.quality.result import QualityResult
from watchkeeper.detectors.severity import severity

METHOD = "label_delay"


def label_delay(
    event_times: Sequence[datetime],
    label_times: Sequence[datetime | None],
    now: datetime,
    expected_delay: timedelta,
    *,
    max_overdue_share: float = 0.1,
) -> QualityResult:
    """``label_times[i]`` is when event i's label arrived, None if it has not."""
    if len(event_times) != len(label_times):
        raise InputError(
            f"{len(event_times)} event times but {len(label_times)} label times",
            field="label_times", expected="one entry (or None) per event",
        )
    if expected_delay <= timedelta(0):
        raise InputError(f"got {expected_delay}", field="expected_delay",
                         expected="a positive interval")
    fraction(max_overdue_share, "max_overdue_share", allow_zero=False)
    due = 0
    overdue = 0
    delays: list[float] = []
    for i, (ev, lab) in enumerate(zip(event_times, label_times, strict=True)):
        if ev is None:
            raise InputError("event time is missing", row=i, field="event_times",
                             expected="a datetime for every event")
        if lab is not None:
            if lab < ev:
                raise InputError(f"label at {lab} precedes its event at {ev}", row=i,
                                 field="label_times", expected="labels after their events")
            delays.append((lab - ev).total_seconds())
        if now - ev >= expected_delay:
            due += 1
            if lab is None or lab - ev > expected_delay:
                overdue += 1
    share = overdue / due if due else 0.0
    median = float(np.median(delays)) if delays else None
    median_txt = f"{median / 3600:.1f} h" if median is not None else "n/a (no labels yet)"
    evidence = (
        f"{overdue:,} of {due:,} events due a label ({share:.1%}) had none within "
        f"{expected_delay}; median label delay {median_txt}; flags at {max_overdue_share:.0%}."
    )
    return QualityResult(
        method=METHOD, statistic=share, threshold=max_overdue_share, effect_size=share,
        flagged=due > 0 and share >= max_overdue_share,
        severity=severity(share, max_overdue_share), evidence=evidence,
        details={"due": due, "overdue": overdue, "labelled": len(delays),
                 "median_delay_seconds": median,
                 "expected_delay_seconds": expected_delay.total_seconds()},
    )
