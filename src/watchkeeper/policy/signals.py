"""`signals:` how detectors run and when their findings count. The top-level section holds the
defaults; `models[i].signals` overrides only the keys it writes (see `merge_signals`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import InitErrorDetails

from watchkeeper.core.enums import FeatureType
from watchkeeper.detectors.correction import Correction
from watchkeeper.detectors.drift import DriftRules
from watchkeeper.policy.catalogue import AUTO, drift_methods_for
from watchkeeper.policy.common import Section, one_of, problem, raise_problems

# The detectors own the drift defaults (with their reasons); the policy reads them from there.
_RULES = DriftRules()


class DriftSettings(Section):
    numeric: str = Field(AUTO, description="Drift method for numeric features, or auto.")
    categorical: str = Field(AUTO, description="Drift method for categorical features, or auto.")
    min_effect: float = Field(
        _RULES.min_effect, ge=0,
        description="Effect size below which a significant test is not drift "
        "(large windows make tiny, harmless shifts significant).",
    )
    correction: Correction = Field(
        _RULES.correction,
        description="Multiple-testing correction across features: bh (Benjamini-Hochberg), "
        "bonferroni, or none.",
    )
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level after correction.")
    dataset_share: float = Field(
        _RULES.drift_share, gt=0, le=1,
        description="Share of drifted features that makes the dataset drifted.",
    )

    @model_validator(mode="after")
    def _methods(self) -> DriftSettings:
        problems: list[InitErrorDetails] = []
        for field, ftype in (("numeric", FeatureType.NUMERIC),
                             ("categorical", FeatureType.CATEGORICAL)):
            method = getattr(self, field)
            allowed = drift_methods_for(ftype)
            if method != AUTO and method not in allowed:
                problems.append(problem((field,), f"unknown {ftype.value} drift method "
                                        f"{method!r}; expected one of {one_of([AUTO, *allowed])}",
                                        method))
        raise_problems("drift", problems)
        return self


class QualitySettings(Section):
    max_null_rate_increase: float = Field(
        0.1, ge=0, le=1, description="Null-rate rise over the reference that raises a signal."
    )
    max_out_of_range_rate: float = Field(
        0.01, ge=0, le=1, description="Share of values outside schema min/max that is tolerated."
    )
    max_unknown_category_rate: float = Field(
        0.05, ge=0, le=1, description="Share of categories outside the schema that is tolerated."
    )
    stuck_windows: int = Field(
        3, ge=2, description="A feature constant for this many windows in a row is stuck."
    )


class PerformanceSettings(Section):
    estimate: Literal["cbpe", "none"] = Field(
        "cbpe", description="Label-free performance estimate while labels are pending: cbpe "
        "(confidence-based, needs probabilities) or none."
    )
    min_labels: int = Field(
        100, ge=1, description="Fewest labelled events for realised performance to be judged."
    )


class CalibrationSettings(Section):
    max_ece: float = Field(
        0.05, gt=0, le=1, description="Expected calibration error above which a signal fires."
    )
    bins: int = Field(10, ge=2, le=100, description="Probability bins for the ECE.")


class SignalSettings(Section):
    drift: DriftSettings = Field(default_factory=DriftSettings, description="Data drift.")
    quality: QualitySettings = Field(default_factory=QualitySettings, description="Data quality.")
    performance: PerformanceSettings = Field(
        default_factory=PerformanceSettings, description="Realised and estimated performance."
    )
    calibration: CalibrationSettings = Field(
        default_factory=CalibrationSettings, description="Probability calibration."
    )


def merge_signals(defaults: SignalSettings, override: SignalSettings | None) -> SignalSettings:
    """Apply only the keys the override actually wrote (pydantic records them in
    `model_fields_set`), so defaults stay written in one place: on the fields above."""
    if override is None:
        return defaults
    parts = {}
    for name in SignalSettings.model_fields:
        base = getattr(defaults, name)
        if name in override.model_fields_set:
            given = getattr(override, name)
            base = base.model_copy(update={k: getattr(given, k) for k in given.model_fields_set})
        parts[name] = base
    return SignalSettings(**parts)
