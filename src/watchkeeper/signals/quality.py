"""Profiles -> data-quality checks -> `Signal`s.

Each check only emits a signal when it has something to say (severity of at least
`MIN_SEVERITY`), so a healthy window of 50 features does not store 150 zeros; drift signals, by
contrast, are emitted for every feature, since their absence would hide what was tested.

A quality signal is catastrophic (it bypasses persistence in scoring) when the detector says the
feature stopped carrying data (all missing, frozen, stuck) *and* the feature matters: the policy
gives it no importance (all features weigh the same) or an importance of at least
`IMPORTANT_FROM`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from watchkeeper.core.enums import FeatureType, SignalKind
from watchkeeper.core.records import Signal
from watchkeeper.detectors import quality as q
from watchkeeper.policy.models import ModelPolicy
from watchkeeper.policy.signals import QualitySettings
from watchkeeper.profiles import CategoricalProfile, NumericProfile, WindowProfile
from watchkeeper.profiles.window import ColumnProfile
from watchkeeper.signals.convert import from_quality

MIN_SEVERITY = 0.01
IMPORTANT_FROM = 0.05


def important(model: ModelPolicy, feature: str) -> bool:
    spec = model.features.get(feature)
    weight = getattr(spec, "importance", None)
    return weight is None or weight >= IMPORTANT_FROM


def fingerprint(p: ColumnProfile | None) -> tuple[object, ...] | None:
    """What a stuck feed repeats: the window's exact summary (None for an empty window)."""
    if p is None or p.count == 0:
        return None
    if isinstance(p, NumericProfile):
        return ("numeric", p.count, p.min, p.max, p.mean, p.m2)
    assert isinstance(p, CategoricalProfile)
    return ("categorical", p.count, tuple(sorted(p.counts().items())))


def out_of_range_counts(p: NumericProfile, low: float, high: float) -> tuple[int, int]:
    """(below, above) from the sketch; exact (zero) whenever min/max lie inside the bounds."""
    below = 0 if p.min >= low else round(p.count * float(p.cdf([np.nextafter(low, -np.inf)])[0]))
    above = 0 if p.max <= high else round(p.count * (1.0 - float(p.cdf([high])[0])))
    # The sketch may blur a handful of values either way; exact extremes say at least one.
    below = max(below, 1) if p.min < low else below
    above = max(above, 1) if p.max > high else above
    return below, min(above, p.count - below)


def quality_signals(
    model: ModelPolicy,
    settings: QualitySettings,
    reference: WindowProfile,
    current: WindowProfile,
    history: Sequence[WindowProfile] = (),
) -> list[Signal]:
    """Missing rate, range, unseen categories, constant and stuck features, schema."""
    out: list[Signal] = []

    def add(result: q.QualityResult, feature: str | None = None) -> None:
        if result.severity < MIN_SEVERITY and not result.catastrophic:
            return
        cat = result.catastrophic and (feature is None or important(model, feature))
        out.append(from_quality(result, catastrophic=cat))

    ref_schema = {n: p.kind for n, p in reference.features.items()}
    cur_schema = {n: p.kind for n, p in current.features.items()}
    important_cols = [n for n in model.features if important(model, n)]
    add(q.schema_change(ref_schema, cur_schema, important=important_cols))

    for name, spec in model.features.items():
        ref, cur = reference.features.get(name), current.features.get(name)
        if ref is None or cur is None or type(ref) is not type(cur):
            continue  # schema_change reported it
        add(q.missing_rate_change(
            ref.nulls, ref.n, cur.nulls, cur.n, feature=name,
            min_increase=max(settings.max_null_rate_increase, 1e-9),
        ), name)
        if cur.count == 0:
            continue
        if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
            low = getattr(spec, "min", None)
            high = getattr(spec, "max", None)
            low = ref.min if low is None and ref.count else low
            high = ref.max if high is None and ref.count else high
            if low is not None and high is not None and low <= high:
                below, above = out_of_range_counts(cur, low, high)
                add(q.out_of_range_counts(
                    below, above, cur.count, low=low, high=high, feature=name,
                    max_share=max(settings.max_out_of_range_rate, 1e-9),
                    examples=[v for v in (cur.min, cur.max) if v < low or v > high],
                ), name)
            if ref.count > 1:
                ref_distinct = 1 if ref.min == ref.max else 2  # numeric sketches keep no count
                cur_distinct = 1 if cur.min == cur.max else 2
                add(q.constant_feature(ref_distinct, cur_distinct, cur.count, feature=name,
                                       current_value=cur.min if cur_distinct == 1 else None), name)
        elif isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
            declared = getattr(spec, "categories", None)
            known = ({str(c).lower() if isinstance(c, bool) else str(c) for c in declared}
                     if declared else set(ref.counts()))
            # Free text (names, e-mails, ids) has new values all the time: not a domain fault.
            if known and model.feature_types()[name] is not FeatureType.TEXT:
                add(q.unseen_categories(
                    known, cur.counts(), feature=name,
                    max_share=max(settings.max_unknown_category_rate, 1e-9),
                ), name)
            ref_counts, cur_counts = ref.counts(), cur.counts()
            add(q.constant_feature(len(ref_counts), len(cur_counts), cur.count, feature=name,
                                   current_value=next(iter(cur_counts), None)
                                   if len(cur_counts) == 1 else None), name)
        prints = [fingerprint(h.features.get(name)) for h in history] + [fingerprint(cur)]
        if len(prints) >= settings.stuck_windows:
            add(q.stuck_feature(prints, feature=name, min_windows=settings.stuck_windows), name)
    return out


def freshness_signal(
    last_event_at: datetime | None, now: datetime, expected_every: timedelta
) -> Signal:
    return from_quality(q.freshness(last_event_at, now, expected_every))


def duplicates_signal(total: int, duplicates: int) -> Signal | None:
    if total <= 0:
        return None
    return from_quality(q.duplicate_events_counts(total, duplicates))


def label_delay_signal(
    event_times: Sequence[datetime], label_times: Sequence[datetime | None], now: datetime,
    expected_delay: timedelta,
) -> Signal:
    return from_quality(q.label_delay(event_times, label_times, now, expected_delay),
                        kind=SignalKind.LABEL_DELAY)
