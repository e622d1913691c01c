"""The profile of one model's window: every feature, the model's outputs, labels and segments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from watchkeeper.core.enums import FeatureType
from watchkeeper.profiles.categorical import CategoricalColumn, CategoricalProfile
from watchkeeper.profiles.numeric import NumericProfile

ColumnProfile = NumericProfile | CategoricalProfile
Column = np.ndarray | CategoricalColumn

# Types profiled with quantiles; every other type is profiled by its category counts.
_NUMERIC_TYPES = {FeatureType.NUMERIC, FeatureType.DATETIME}
# Free text is profiled by category counts too (frequent items bound the memory it can take).


def new_column_profile(kind: FeatureType | str) -> ColumnProfile:
    return NumericProfile() if FeatureType(kind) in _NUMERIC_TYPES else CategoricalProfile()


def profile_column(values: Column, kind: FeatureType | str) -> ColumnProfile:
    profile = new_column_profile(kind)
    profile.update(values)  # type: ignore[arg-type]
    return profile


@dataclass(slots=True)
class WindowProfile:
    """Mergeable: `merge(a, b)` of two partial profiles equals the profile of both parts (exactly
    for counts, nulls, min/max, mean/variance; within the sketches' bounds for the rest).

    n is the number of prediction events; labels arrive later and are counted in `label.n`.
    """

    n: int = 0
    features: dict[str, ColumnProfile] = field(default_factory=dict)
    prediction: ColumnProfile | None = None
    confidence: NumericProfile | None = None  # probability or score of the prediction
    latency: NumericProfile | None = None  # latency_ms
    label: ColumnProfile | None = None
    segments: dict[str, CategoricalProfile] = field(default_factory=dict)  # tag -> value counts

    def copy(self) -> WindowProfile:
        return WindowProfile(
            self.n,
            {k: v.copy() for k, v in self.features.items()},
            _copy(self.prediction),
            _copy(self.confidence),
            _copy(self.latency),
            _copy(self.label),
            {k: v.copy() for k, v in self.segments.items()},
        )

    def merge_in(self, other: WindowProfile) -> None:
        """Fold `other` into this profile; `other` is not modified."""
        self.n += other.n
        _merge_dict(self.features, other.features)
        _merge_dict(self.segments, other.segments)  # type: ignore[arg-type]
        self.prediction = _merge_opt(self.prediction, other.prediction)
        self.confidence = _merge_opt(self.confidence, other.confidence)  # type: ignore[assignment]
        self.latency = _merge_opt(self.latency, other.latency)  # type: ignore[assignment]
        self.label = _merge_opt(self.label, other.label)

    def to_bytes(self) -> bytes:
        from watchkeeper.profiles.serial import dumps

        return dumps(self)

    @classmethod
    def from_bytes(cls, blob: bytes) -> WindowProfile:
        from watchkeeper.profiles.serial import loads

        return loads(blob)


def merge(a: WindowProfile, b: WindowProfile) -> WindowProfile:
    """A new profile of both parts; neither input is modified."""
    out = a.copy()
    out.merge_in(b)
    return out


def merge_all(parts: list[WindowProfile]) -> WindowProfile:
    if not parts:
        return WindowProfile()
    out = parts[0].copy()
    for part in parts[1:]:
        out.merge_in(part)
    return out


def build_profile(
    columns: Mapping[str, Column],
    feature_types: Mapping[str, FeatureType | str],
    *,
    n: int | None = None,
    prediction: Column | None = None,
    prediction_type: FeatureType | str = FeatureType.CATEGORICAL,
    confidence: np.ndarray | None = None,
    latency: np.ndarray | None = None,
    label: Column | None = None,
    label_type: FeatureType | str = FeatureType.CATEGORICAL,
    segments: Mapping[str, Column] | None = None,
) -> WindowProfile:
    """Profile one batch of events. `columns` holds a column per feature named in
    `feature_types` (a feature without a column is profiled as all-null); `n` defaults to the
    length of the first column given. Label-only batches pass `n=0` and `label=`."""
    given = (*columns.values(), prediction, confidence, latency)
    lengths = [len(c) for c in given if c is not None]
    rows = n if n is not None else (lengths[0] if lengths else 0)
    profile = WindowProfile(n=rows)
    for name, kind in feature_types.items():
        col = columns.get(name)
        if col is None:
            prof = new_column_profile(kind)
            prof.nulls = rows
        else:
            prof = profile_column(col, kind)
        profile.features[name] = prof
    if prediction is not None:
        profile.prediction = profile_column(prediction, prediction_type)
    if confidence is not None:
        profile.confidence = NumericProfile()
        profile.confidence.update(confidence)
    if latency is not None:
        profile.latency = NumericProfile()
        profile.latency.update(latency)
    if label is not None:
        profile.label = profile_column(label, label_type)
    for tag, values in (segments or {}).items():
        seg = CategoricalProfile()
        seg.update(values)
        profile.segments[tag] = seg
    return profile


def _copy(p: ColumnProfile | None) -> ColumnProfile | None:
    return p.copy() if p is not None else None


def _merge_opt(a: ColumnProfile | None, b: ColumnProfile | None) -> ColumnProfile | None:
    if b is None:
        return a
    if a is None:
        return b.copy()
    if type(a) is not type(b):
        raise ValueError(f"cannot merge a {a.kind} profile with a {b.kind} profile")
    a.merge_in(b)  # type: ignore[arg-type]
    return a


def _merge_dict(into: dict[str, ColumnProfile], other: Mapping[str, ColumnProfile]) -> None:
    for name, prof in other.items():
        merged = _merge_opt(into.get(name), prof)
        assert merged is not None
        into[name] = merged
