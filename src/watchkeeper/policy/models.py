"""`models:` one entry per monitored model: what it is, what it sees, how it is judged."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import InitErrorDetails

from watchkeeper.core.enums import Criticality, FeatureType, Task
from watchkeeper.policy.catalogue import AUTO, METRICS, drift_methods_for
from watchkeeper.policy.common import (
    Duration,
    Name,
    Section,
    Slug,
    custom_error,
    listify,
    one_of,
    problem,
    raise_problems,
)
from watchkeeper.policy.signals import SignalSettings

# Columns a reference file may hold besides the features (the event fields of ingestion).
RESERVED_COLUMNS = (
    "event_id", "timestamp", "model_version", "prediction", "probability", "score", "label",
    "latency_ms", "segment",
)
REFERENCE_FORMATS = (".parquet", ".pq", ".csv", ".jsonl", ".ndjson")


def _scalar(value: object) -> object:
    if isinstance(value, str | int | bool) or (isinstance(value, float) and value.is_integer()):
        return int(value) if isinstance(value, float) else value
    raise custom_error(f"expected a category as text, a whole number or true/false, got "
                       f"{type(value).__name__}")


Category = Annotated[str | int | bool, BeforeValidator(_scalar)]

# --- features ---------------------------------------------------------------------------------


class _Feature(Section):
    importance: float | None = Field(
        None, ge=0, le=1,
        description="Share of the model's decisions this feature drives (0..1); drift on "
        "important features weighs more. Unset: all features weigh the same.",
    )
    pii: bool = Field(False, description="Personal data: never shown in messages or reports.")
    nullable: bool = Field(True, description="Nulls are allowed (their rate is still watched).")
    description: str = Field("", description="Free text for people reading reports.")


class NumericFeature(_Feature):
    type: Literal["numeric"] = Field(description="numeric")
    min: float | None = Field(None, description="Smallest valid value (inclusive).")
    max: float | None = Field(None, description="Largest valid value (inclusive).")
    drift: str | None = Field(
        None, description="Drift method for this feature; unset: signals.drift.numeric."
    )

    @model_validator(mode="after")
    def _check(self) -> NumericFeature:
        problems: list[InitErrorDetails] = []
        if self.min is not None and self.max is not None and self.min > self.max:
            problems.append(problem(("max",), f"max {self.max:g} is below min {self.min:g}"))
        if self.drift is not None:
            problems += _drift_method_problems(self.drift, FeatureType.NUMERIC, ("drift",))
        raise_problems("numeric feature", problems)
        return self


class CategoricalFeature(_Feature):
    type: Literal["categorical"] = Field(description="categorical")
    categories: list[Category] | None = Field(
        None, description="The known categories; others count as unknown (a quality signal)."
    )
    drift: str | None = Field(
        None, description="Drift method for this feature; unset: signals.drift.categorical."
    )

    @model_validator(mode="after")
    def _check(self) -> CategoricalFeature:
        problems: list[InitErrorDetails] = []
        seen: dict[object, int] = {}
        for i, cat in enumerate(self.categories or ()):
            if cat in seen:
                problems.append(problem(("categories", i), f"duplicate category {cat!r} "
                                        f"(also categories[{seen[cat]}])"))
            seen.setdefault(cat, i)
        if self.drift is not None:
            problems += _drift_method_problems(self.drift, FeatureType.CATEGORICAL, ("drift",))
        raise_problems("categorical feature", problems)
        return self


class BooleanFeature(_Feature):
    type: Literal["boolean"] = Field(description="boolean")


class TextFeature(_Feature):
    type: Literal["text"] = Field(description="text")
    max_length: int | None = Field(None, ge=1, description="Longest valid text, in characters.")


class DatetimeFeature(_Feature):
    type: Literal["datetime"] = Field(description="datetime")


Feature = Annotated[
    NumericFeature | CategoricalFeature | BooleanFeature | TextFeature | DatetimeFeature,
    Field(discriminator="type"),
]


def _drift_method_problems(method: str, ftype: FeatureType, loc: tuple[str, ...]
                           ) -> list[InitErrorDetails]:
    allowed = drift_methods_for(ftype)
    if method == AUTO or method in allowed:
        return []
    return [problem(loc, f"unknown {ftype.value} drift method {method!r}; expected one of "
                         f"{one_of([AUTO, *allowed])}", method)]


class FeatureSchema(Section):
    features: dict[str, Feature] = Field(
        min_length=1, description="Feature name (a column of the events) -> its type and domain."
    )
    prediction: Literal["probability", "label", "score", "value"] = Field(
        description="What the model outputs: probability (of the positive class, or per class), "
        "label, score (unbounded), value (regression)."
    )
    label: Literal["binary", "multiclass", "numeric"] = Field(
        description="What the delayed ground truth looks like."
    )
    classes: list[Category] | None = Field(
        None, description="Class labels of a classifier, in the model's order (optional)."
    )
    segments: Annotated[list[str], BeforeValidator(listify)] = Field(
        default_factory=list,
        description="Categorical or boolean features to break every signal down by.",
    )

    @model_validator(mode="after")
    def _check(self) -> FeatureSchema:
        problems: list[InitErrorDetails] = []
        for name in self.features:
            if not name.strip():
                problems.append(problem(("features", name), "a feature name cannot be blank"))
            elif name in RESERVED_COLUMNS:
                problems.append(problem(
                    ("features", name),
                    f"{name!r} is an event field, not a feature; reserved names: "
                    f"{one_of(RESERVED_COLUMNS)}"))
        for i, seg in enumerate(self.segments):
            feature = self.features.get(seg)
            if feature is None:
                problems.append(problem(("segments", i), f"unknown feature {seg!r}; expected "
                                        f"one of {one_of(self.features)}", seg))
            elif feature.type not in ("categorical", "boolean"):
                problems.append(problem(("segments", i), f"segment {seg!r} is a {feature.type} "
                                        "feature; segments must be categorical or boolean", seg))
        raise_problems("schema", problems)
        return self


# --- the rest of a model entry ------------------------------------------------------------------


class Window(Section):
    every: Duration | None = Field(None, description="Close a window every this long (e.g. 1h).")
    events: int | None = Field(None, ge=1, description="Close a window every this many events.")
    min_events: int = Field(
        100, ge=1, description="Windows with fewer events are profiled but not judged."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Window:
        if (self.every is None) == (self.events is None):
            raise custom_error("give exactly one of every (a duration, e.g. 1h) or events "
                               "(a count, e.g. 5000)")
        return self


class Kpi(Section):
    metric: str = Field(description="A metric id valid for the model's task (see docs).")
    min: float | None = Field(None, description="Breach when the metric falls below this.")
    max: float | None = Field(None, description="Breach when the metric rises above this.")

    @model_validator(mode="after")
    def _bounds(self) -> Kpi:
        if self.min is None and self.max is None:
            raise custom_error("a KPI needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise custom_error(f"min {self.min:g} is above max {self.max:g}")
        return self


_TEMPLATE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def _template(value: object) -> object:
    if isinstance(value, str) and _TEMPLATE.match(value):
        return value
    raise custom_error(f"invalid template {value!r}; expected a lowercase dotted id such as "
                       "sklearn.gradient_boosting")


class Retrain(Section):
    template: Annotated[str, BeforeValidator(_template)] = Field(
        "sklearn.gradient_boosting",
        description="Retraining template id from the mitigation catalogue (family.name).",
    )
    history: Duration = Field(
        timedelta(days=7), description="How much recent labelled data to retrain on."
    )
    hpo_budget: int = Field(8, ge=0, description="Hyper-parameter trials per retrain (0: none).")
    timeout: Duration = Field(timedelta(hours=1), description="A retrain running longer fails.")
    max_per_day: int = Field(2, ge=0, description="Automatic retrains allowed per model per day.")
    memory_mb: int = Field(2048, ge=64, description="Memory headroom of the training sandbox.")
    weighting: Literal["none", "density_ratio"] = Field(
        "none", description="Weight older rows by a domain classifier's density ratio to the "
        "post-change data (importance weighting)."
    )


_FALLBACK = re.compile(r"^(previous_version|reject|rule:[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?)$")


def _fallback(value: object) -> object:
    if isinstance(value, str) and _FALLBACK.match(value):
        return value
    raise custom_error(
        f"invalid fallback {value!r}; expected previous_version, reject or "
        "rule:<import.path> (e.g. rule:credit.rules:approve_all)"
    )


class ModelPolicy(Section):
    name: Slug = Field(description="Unique lowercase slug; used in URLs, files and the CLI.")
    task: Task = Field(description="What the model predicts; decides the valid KPIs and outputs.")
    criticality: Criticality = Field(
        Criticality.MEDIUM,
        description="Weighs the score; high needs a sign-off to redeploy (mitigation.sign_off).",
    )
    regulatory: bool = Field(False, description="Subject to regulation: stricter escalation.")
    customer_impact: Literal["none", "low", "medium", "high"] = Field(
        "medium", description="How directly customers feel a bad prediction (scoring context)."
    )
    owner: Name = Field(description="The accountable person (a key of people:).")
    description: str = Field("", description="Free text for people reading reports.")
    reference: str = Field(
        description="Reference data (Parquet, CSV or JSON lines), relative to the policy file."
    )
    data_schema: FeatureSchema = Field(alias="schema", description="Features and outputs.")
    window: Window = Field(description="How events are cut into evaluation windows.")
    label_delay: Duration | None = Field(
        None, description="Labels normally arrive within this; later ones raise a signal."
    )
    kpis: list[Kpi] = Field(default_factory=list, description="Service levels the model must meet.")
    fallback: Annotated[str, BeforeValidator(_fallback)] = Field(
        "previous_version", description="Where the kill switch sends traffic."
    )
    retrain: Retrain = Field(default_factory=Retrain, description="How to retrain this model.")
    roles: dict[Name, Annotated[list[str], BeforeValidator(listify)]] = Field(
        default_factory=dict, description="Per-model role assignments overriding roles:."
    )
    signals: SignalSettings | None = Field(
        None, description="Overrides of the top-level signals: for this model (only keys given)."
    )

    @model_validator(mode="after")
    def _check(self) -> ModelPolicy:
        problems: list[InitErrorDetails] = []
        suffix = os.path.splitext(self.reference)[1].lower()
        if suffix not in REFERENCE_FORMATS:
            problems.append(problem(("reference",), f"unsupported reference format "
                                    f"{suffix or '(none)'!r}; expected one of "
                                    f"{one_of(REFERENCE_FORMATS)}", self.reference))
        problems += self._output_problems()
        metrics = METRICS[self.task]
        first: dict[str, int] = {}
        for i, kpi in enumerate(self.kpis):
            loc = ("kpis", i, "metric")
            if kpi.metric in first:
                problems.append(problem(loc, f"duplicate KPI {kpi.metric!r} (also kpis"
                                        f"[{first[kpi.metric]}]); put min and max in one entry"))
            elif kpi.metric not in metrics:
                known_elsewhere = any(kpi.metric in ms for ms in METRICS.values())
                head = (f"metric {kpi.metric!r} does not apply to {self.task.value}"
                        if known_elsewhere else f"unknown metric {kpi.metric!r}")
                problems.append(problem(loc, f"{head}; expected one of {one_of(metrics)}",
                                        kpi.metric))
            first.setdefault(kpi.metric, i)
        raise_problems("model", problems)
        return self

    def _output_problems(self) -> list[InitErrorDetails]:
        predictions, label = _OUTPUTS[self.task]
        schema = self.data_schema
        out = []
        if schema.prediction not in predictions:
            out.append(problem(("schema", "prediction"), f"prediction {schema.prediction!r} does "
                               f"not fit task {self.task.value}; expected one of "
                               f"{one_of(predictions)}", schema.prediction))
        if schema.label != label:
            out.append(problem(("schema", "label"), f"label {schema.label!r} does not fit task "
                               f"{self.task.value}; expected {label}", schema.label))
        return out

    # --- helpers for other stages ---

    def feature_types(self) -> dict[str, FeatureType]:
        return {name: FeatureType(f.type) for name, f in self.data_schema.features.items()}

    @property
    def features(self) -> dict[str, Feature]:
        return self.data_schema.features

    def kpi(self, metric: str) -> Kpi | None:
        return next((k for k in self.kpis if k.metric == metric), None)


_OUTPUTS: dict[Task, tuple[tuple[str, ...], str]] = {
    Task.BINARY_CLASSIFICATION: (("probability", "label", "score"), "binary"),
    Task.MULTICLASS_CLASSIFICATION: (("probability", "label"), "multiclass"),
    Task.REGRESSION: (("value",), "numeric"),
}
