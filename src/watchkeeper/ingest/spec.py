"""What ingestion needs to know about one model, read once from the policy.

Keeping this small frozen record between the policy and the ingest code means validation and
folding are plain functions of (table, spec), testable without a policy file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from watchkeeper.core.enums import FeatureType, Task
from watchkeeper.profiles.categorical import category_text

# Event fields (columns) with a fixed meaning; everything else is a feature or ignored.
EVENT_ID = "event_id"
TIMESTAMP = "timestamp"
MODEL_VERSION = "model_version"
PREDICTION = "prediction"
SCORE = "score"  # the probability or score of the prediction, stored under one name
PROBABILITY = "probability"
LATENCY = "latency_ms"
LABEL = "label"
MAX_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    type: FeatureType
    min: float | None = None
    max: float | None = None
    categories: frozenset[str] | None = None  # in category_text form
    nullable: bool = True
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """Exactly one of `every` (time windows aligned to the Unix epoch) or `events` (count)."""

    every: timedelta | None = None
    events: int | None = None

    def __post_init__(self) -> None:
        if (self.every is None) == (self.events is None):
            raise ValueError("a window is either every=<duration> or events=<count>")
        if self.every is not None and self.every.total_seconds() <= 0:
            raise ValueError("window.every must be positive")

    @property
    def every_us(self) -> int:
        assert self.every is not None
        return int(self.every.total_seconds() * 1_000_000)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    features: dict[str, FeatureSpec]
    window: WindowSpec
    prediction_type: FeatureType = FeatureType.CATEGORICAL  # numeric for regression
    label_type: FeatureType = FeatureType.CATEGORICAL
    segments: tuple[str, ...] = ()
    retention: timedelta | None = None  # raw events older than this are purged
    quarantine_retention: timedelta | None = None  # rejected rows and their files
    profile_retention: timedelta | None = None  # window profiles
    reference: Path | None = None
    feature_types: dict[str, FeatureType] = field(init=False)

    def __post_init__(self) -> None:
        types = {n: f.type for n, f in self.features.items()}
        object.__setattr__(self, "feature_types", types)

    @classmethod
    def from_policy(cls, policy: Any, name: str) -> ModelSpec:
        """From `watchkeeper.policy.Policy`; unknown model names raise the policy's error."""
        mp = policy.model(name)
        schema = mp.data_schema
        features = {}
        for fname, f in schema.features.items():
            cats = getattr(f, "categories", None)
            features[fname] = FeatureSpec(
                name=fname,
                type=FeatureType(f.type),
                min=getattr(f, "min", None),
                max=getattr(f, "max", None),
                categories=frozenset(category_text(c) for c in cats) if cats else None,
                nullable=getattr(f, "nullable", True),
                max_length=getattr(f, "max_length", None),
            )
        regression = Task(mp.task) is Task.REGRESSION
        kept = getattr(policy, "retention", None)
        return cls(
            name=mp.name,
            features=features,
            window=WindowSpec(every=mp.window.every, events=mp.window.events),
            prediction_type=FeatureType.NUMERIC if regression else FeatureType.CATEGORICAL,
            label_type=FeatureType.NUMERIC if regression else FeatureType.CATEGORICAL,
            segments=tuple(getattr(schema, "segments", ()) or ()),
            retention=getattr(kept, "events", None),
            quarantine_retention=getattr(kept, "quarantine", None),
            profile_retention=getattr(kept, "profiles", None),
            reference=policy.reference_path(name),
        )
