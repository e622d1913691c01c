"""The pure part of signals: one closed window's profiles (and labelled events) -> `Signal`s.

`compute_signals` reads nothing and writes nothing; `service.py` gathers its inputs from the
store and the event log and stores what it returns. Order of the result: data quality, data
drift (per feature, then the dataset, then PCA reconstruction error over the numeric features
when raw rows are given), prediction drift, estimated performance, realised
performance and calibration, latency, label delay, freshness, duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from watchkeeper.core.enums import FeatureType
from watchkeeper.core.records import Signal, WindowKey
from watchkeeper.detectors.multivariate import pca_reconstruction
from watchkeeper.policy.models import ModelPolicy
from watchkeeper.policy.signals import SignalSettings
from watchkeeper.profiles import WindowProfile
from watchkeeper.signals import performance as perf
from watchkeeper.signals.convert import from_multivariate
from watchkeeper.signals.drift import feature_drift
from watchkeeper.signals.quality import (
    duplicates_signal,
    freshness_signal,
    label_delay_signal,
    quality_signals,
)

# PCA needs a baseline half and a fit half of the reference and a current sample of some size.
MIN_ROWS = 50


@dataclass(frozen=True, slots=True)
class Rows:
    """Raw numeric feature rows (reference and this window), for the multivariate check that
    a per-feature profile cannot support. Columns in `names` order; NaN for missing."""

    reference: np.ndarray
    current: np.ndarray
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WindowInputs:
    """Everything one window's signals are computed from. Only the two profiles are required."""

    current: WindowProfile
    reference: WindowProfile
    history: Sequence[WindowProfile] = ()  # earlier windows, oldest first (stuck features)
    labelled: perf.Labelled | None = None
    baseline: perf.ReferenceBaseline | None = None
    # Freshness: the newest event time and the time of evaluation.
    last_event_at: datetime | None = None
    now: datetime | None = None
    # Label delay: event and label times of the window's events (None: label not yet in).
    event_times: Sequence[datetime] = ()
    label_times: Sequence[datetime | None] = ()
    # Duplicates: events received with the window's batches and how many repeated an id.
    received: int = 0
    duplicates: int = 0
    rows: Rows | None = None  # numeric rows for PCA reconstruction error (multivariate drift)
    extra: dict[str, object] = field(default_factory=dict)


def compute_signals(
    window: WindowKey, model: ModelPolicy, settings: SignalSettings, inputs: WindowInputs
) -> list[Signal]:
    """Run what the policy asks for on one window. A window with fewer events than the policy's
    `window.min_events` is not judged (its profile is still kept), except for freshness."""
    out: list[Signal] = []
    current, reference = inputs.current, inputs.reference
    expected_every = _expected_every(model, window)
    if current.n >= model.window.min_events and reference.n > 0:
        out += quality_signals(model, settings.quality, reference, current, inputs.history)
        # Free text is not a distribution to compare (every e-mail address is "new").
        drift_types = {n: t for n, t in model.feature_types().items() if t is not FeatureType.TEXT}
        _, drift = feature_drift(
            drift_types, reference.features, current.features, settings.drift,
            {name: getattr(f, "drift", None) for name, f in model.features.items()},
        )
        out += drift
        if inputs.rows is not None and len(inputs.rows.names) >= 2:
            r = inputs.rows
            if len(r.reference) >= MIN_ROWS and len(r.current) >= MIN_ROWS:
                out.append(from_multivariate(pca_reconstruction(r.reference, r.current,
                                                                list(r.names))))
        out += perf.prediction_drift(model, settings, reference, current)
        out += perf.estimated_performance(model, settings, inputs.baseline, current)
        out += perf.realised_performance(model, settings, inputs.labelled, inputs.baseline)
        out += perf.latency(model, current)
        if model.label_delay is not None and inputs.event_times and inputs.now is not None:
            out.append(label_delay_signal(inputs.event_times, inputs.label_times, inputs.now,
                                          model.label_delay))
        dup = duplicates_signal(inputs.received, inputs.duplicates)
        if dup is not None and dup.severity > 0:
            out.append(dup)
    if inputs.now is not None and expected_every is not None:
        out.append(freshness_signal(inputs.last_event_at, inputs.now, expected_every))
    return out


def _expected_every(model: ModelPolicy, window: WindowKey) -> timedelta | None:
    """How long a healthy stream may go without an event: one time window, or (count windows)
    the duration of this window."""
    if model.window.every is not None:
        return model.window.every
    span = window.end - window.start
    return span if span > timedelta(0) else None
