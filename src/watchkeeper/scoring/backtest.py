"""Backtest metrics: replayed tiers against verified incidents. Pure.

Definitions (also in docs/scoring.md):

* An **alert** is a maximal run of consecutive windows of one model at or above `min_tier`
  (T2 by default); it is raised when its first window closes.
* An alert is a **true positive** when it overlaps a confirmed incident of the same model
  (extended by `grace` after its end), else a **false alarm**. Incidents that responders
  dismissed (false positive, not actionable) are not incidents: alerts on them are false.
* An incident is **detected** when some alert overlaps it; the **delay** is counted in windows
  from the incident's first window to the first alerting window (0 = the very first window).
* **Timeliness** follows NAB's standard profile: a detection whose first alerting window
  starts at relative position y in [-1, 0) of the incident window earns 2 / (1 + e^(5y)) - 1,
  a miss costs 1, a false alarm 0.11; normalised so that never alerting is 0 and detecting
  everything at once is 100.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from watchkeeper.core.clock import ensure_utc

CONFIRMED = "confirmed"
DISMISSED = ("false_positive", "not_actionable")
VERDICTS = (CONFIRMED, *DISMISSED)
A_FP = 0.11  # NAB standard profile
A_FN = 1.0


@dataclass(frozen=True, slots=True)
class Incident:
    model: str
    start: datetime
    end: datetime
    severity: str = "high"
    verdict: str = CONFIRMED  # confirmed | false_positive | not_actionable

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start))
        object.__setattr__(self, "end", ensure_utc(self.end))

    @property
    def confirmed(self) -> bool:
        return self.verdict == CONFIRMED


@dataclass(frozen=True, slots=True)
class WindowOutcome:
    """One scored window as the backtest sees it."""

    model: str
    start: datetime
    end: datetime
    tier: int
    value: float = 0.0
    top_kind: str | None = None
    top_feature: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    model: str
    start: datetime  # first alerting window's start
    end: datetime  # last alerting window's end
    raised_at: datetime  # first window's end: when a person could know
    first_index: int  # position of the first window in the model's series
    top_kind: str | None = None
    top_feature: str | None = None
    incident: Incident | None = None  # the confirmed incident it overlaps, if any


@dataclass(frozen=True, slots=True)
class Detection:
    incident: Incident
    alert: Alert | None
    delay_windows: int | None
    delay: timedelta | None


@dataclass(frozen=True, slots=True)
class Report:
    precision: float
    recall: float
    f1: float
    alerts: int
    false_alarms: int
    incidents: int
    detected: int
    delay_median: float | None  # windows
    delay_p90: float | None
    delay_median_hours: float | None
    false_alarms_per_week: float
    nab_score: float
    weeks: float
    detections: tuple[Detection, ...] = field(repr=False, default=())
    alert_list: tuple[Alert, ...] = field(repr=False, default=())

    def as_dict(self) -> dict[str, float | int | None]:
        return {k: getattr(self, k) for k in (
            "precision", "recall", "f1", "alerts", "false_alarms", "incidents", "detected",
            "delay_median", "delay_p90", "delay_median_hours", "false_alarms_per_week",
            "nab_score", "weeks")}


def nab_sigmoid(y: float) -> float:
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def _series(windows: Iterable[WindowOutcome]) -> dict[str, list[WindowOutcome]]:
    by_model: dict[str, list[WindowOutcome]] = defaultdict(list)
    for w in windows:
        by_model[w.model].append(w)
    for items in by_model.values():
        items.sort(key=lambda w: w.start)
    return by_model


def alerts_of(series: Sequence[WindowOutcome], min_tier: int) -> list[Alert]:
    out: list[Alert] = []
    first: int | None = None
    for i, w in enumerate([*series, None]):
        on = w is not None and w.tier >= min_tier
        if on and first is None:
            first = i
        elif not on and first is not None:
            head, last = series[first], series[i - 1]
            out.append(Alert(head.model, head.start, last.end, head.end, first,
                             head.top_kind, head.top_feature))
            first = None
    return out


def evaluate(
    windows: Iterable[WindowOutcome],
    incidents: Iterable[Incident],
    *,
    min_tier: int = 2,
    grace: timedelta = timedelta(0),
) -> Report:
    by_model = _series(windows)
    confirmed: dict[str, list[Incident]] = defaultdict(list)
    for inc in incidents:
        if inc.confirmed and inc.model in by_model:
            confirmed[inc.model].append(inc)
    alerts: list[Alert] = []
    detections: list[Detection] = []
    weeks = 0.0
    for model, series in by_model.items():
        weeks += (series[-1].end - series[0].start) / timedelta(weeks=1)
        starts = [w.start for w in series]
        model_alerts = []
        for a in alerts_of(series, min_tier):
            hit = next((inc for inc in confirmed[model]
                        if a.start < inc.end + grace and a.end > inc.start), None)
            model_alerts.append(_with_incident(a, hit))
        alerts.extend(model_alerts)
        for inc in confirmed[model]:
            hits = [a for a in model_alerts if a.incident is inc]
            if not hits:
                detections.append(Detection(inc, None, None, None))
                continue
            a = min(hits, key=lambda x: x.start)
            inc_first = bisect.bisect_left(starts, inc.start)
            delay_w = max(0, a.first_index - inc_first)
            raised = max(a.raised_at, inc.start)
            detections.append(Detection(inc, a, delay_w, raised - inc.start))
    tp = sum(1 for a in alerts if a.incident is not None)
    fa = len(alerts) - tp
    found = [d for d in detections if d.alert is not None]
    precision = tp / len(alerts) if alerts else (1.0 if not detections else 0.0)
    recall = len(found) / len(detections) if detections else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    delays = [d.delay_windows for d in found if d.delay_windows is not None]
    hours = [d.delay / timedelta(hours=1) for d in found if d.delay is not None]
    return Report(
        precision=precision, recall=recall, f1=f1, alerts=len(alerts), false_alarms=fa,
        incidents=len(detections), detected=len(found),
        delay_median=float(np.median(delays)) if delays else None,
        delay_p90=float(np.percentile(delays, 90)) if delays else None,
        delay_median_hours=float(np.median(hours)) if hours else None,
        false_alarms_per_week=fa / weeks if weeks else 0.0,
        nab_score=_nab(detections, fa), weeks=weeks,
        detections=tuple(detections), alert_list=tuple(alerts),
    )


def _with_incident(a: Alert, inc: Incident | None) -> Alert:
    return Alert(a.model, a.start, a.end, a.raised_at, a.first_index, a.top_kind,
                 a.top_feature, inc)


def _nab(detections: Sequence[Detection], false_alarms: int) -> float:
    if not detections:
        return 100.0 if false_alarms == 0 else 0.0
    raw = -A_FP * false_alarms
    for d in detections:
        if d.alert is None or d.delay is None:
            raw -= A_FN
            continue
        # Position of the first alerting window (its start, as NAB uses the data point's time).
        span = (d.incident.end - d.incident.start) / timedelta(seconds=1)
        at = max(d.alert.start, d.incident.start) - d.incident.start
        y = -1.0 + (at / timedelta(seconds=1)) / span if span > 0 else -1.0
        raw += nab_sigmoid(min(y, 0.0))
    null = -A_FN * len(detections)
    perfect = nab_sigmoid(-1.0) * len(detections)
    return 100.0 * (raw - null) / (perfect - null)
