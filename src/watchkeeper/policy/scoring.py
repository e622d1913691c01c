"""`scoring:` how signals fuse into one 0..100 score, when a tier is entered and left."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator
from pydantic_core import InitErrorDetails

from watchkeeper.core.enums import SignalKind, Tier
from watchkeeper.policy.common import Duration, Section, problem, raise_problems

_WEIGHT = "Weight of this kind of signal in the fused score (0 ignores it)."
_FLOOR = "Severity below which a signal of this kind is noise."


class Weights(Section):
    """One field per `SignalKind`, so a misspelt kind is an unknown-field error."""

    data_drift: float = Field(2.5, ge=0, description=_WEIGHT)
    performance: float = Field(2.5, ge=0, description=_WEIGHT)
    estimated_performance: float = Field(2.5, ge=0, description=_WEIGHT)
    data_quality: float = Field(2.5, ge=0, description=_WEIGHT)
    calibration: float = Field(2.5, ge=0, description=_WEIGHT)
    latency: float = Field(2.5, ge=0, description=_WEIGHT)
    label_delay: float = Field(2.5, ge=0, description=_WEIGHT)
    prediction_drift: float = Field(2.5, ge=0, description=_WEIGHT)
    external: float = Field(2.5, ge=0, description=_WEIGHT)

    def of(self, kind: SignalKind) -> float:
        return float(getattr(self, kind.value))


class Floors(Section):
    data_drift: float = Field(0.2, ge=0, lt=1, description=_FLOOR)
    performance: float = Field(0.2, ge=0, lt=1, description=_FLOOR)
    estimated_performance: float = Field(0.2, ge=0, lt=1, description=_FLOOR)
    data_quality: float = Field(0.2, ge=0, lt=1, description=_FLOOR)
    calibration: float = Field(0.2, ge=0, lt=1, description=_FLOOR)
    latency: float = Field(0.2, ge=0, lt=1, description=_FLOOR)
    label_delay: float = Field(0.2, ge=0, lt=1, description=_FLOOR)
    prediction_drift: float = Field(0.2, ge=0, lt=1, description=_FLOOR)
    external: float = Field(0.2, ge=0, lt=1, description=_FLOOR)

    def of(self, kind: SignalKind) -> float:
        return float(getattr(self, kind.value))


class Persistence(Section):
    windows: int = Field(3, ge=1, description="Recent windows looked at (n of k-of-n).")
    required: int = Field(2, ge=1, description="Of those, how many must reach a tier to enter it.")
    hysteresis: float = Field(
        10.0, ge=0, le=100, description="A tier is left only below its threshold minus this."
    )
    clear: int | None = Field(
        None, ge=1, description="Windows below the leave threshold to step down; "
        "unset: windows - required + 1."
    )
    flap_window: int = Field(12, ge=1, description="Windows over which re-entries are counted.")
    flap_reentries: int = Field(2, ge=1, description="Re-entries that mark a model as flapping.")

    @model_validator(mode="after")
    def _k_of_n(self) -> Persistence:
        if self.required > self.windows:
            raise_problems("persistence", [problem(
                ("required",), f"required ({self.required}) cannot exceed windows "
                f"({self.windows})", self.required)])
        return self


class Tiers(Section):
    T1: float = Field(30.0, gt=0, le=100, description="Score at which a window enters T1.")
    T2: float = Field(60.0, gt=0, le=100, description="Score at which a window enters T2.")
    T3: float = Field(85.0, gt=0, le=100, description="Score at which a window enters T3.")

    @model_validator(mode="after")
    def _ascending(self) -> Tiers:
        problems: list[InitErrorDetails] = []
        if self.T2 <= self.T1:
            problems.append(problem(("T2",), f"T2 ({self.T2:g}) must be above T1 "
                                    f"({self.T1:g}); tiers ascend T1 < T2 < T3", self.T2))
        if self.T3 <= self.T2:
            problems.append(problem(("T3",), f"T3 ({self.T3:g}) must be above T2 "
                                    f"({self.T2:g}); tiers ascend T1 < T2 < T3", self.T3))
        raise_problems("tiers", problems)
        return self

    def threshold(self, tier: Tier) -> float:
        return float(getattr(self, tier.name))

    def tier_for(self, score: float) -> Tier:
        """The raw tier of a score (before persistence)."""
        for tier in (Tier.T3, Tier.T2, Tier.T1):
            if score >= self.threshold(tier):
                return tier
        return Tier.T0


class Seasonality(Section):
    period: Duration = Field(
        timedelta(days=7), description="Compare each window with the same slot this long ago: "
        "1d (hour of day) or 7d (hour of week)."
    )
    history: int = Field(4, ge=1, description="Past periods kept per slot.")

    @model_validator(mode="after")
    def _period(self) -> Seasonality:
        if self.period not in (timedelta(days=1), timedelta(days=7)):
            raise_problems("seasonality", [problem(
                ("period",), "seasonality period must be 1d (hour of day) or 7d (hour of week)")])
        return self


class ContextFactors(Section):
    criticality: dict[str, float] = Field(
        default_factory=lambda: {"low": 0.8, "medium": 1.0, "high": 1.25},
        description="Score multiplier per model criticality.",
    )
    customer_impact: dict[str, float] = Field(
        default_factory=lambda: {"none": 0.9, "low": 0.9, "medium": 1.0, "high": 1.15},
        description="Score multiplier per customer impact.",
    )
    regulatory: float = Field(1.15, gt=0, description="Multiplier for regulated models.")
    young_model_days: float = Field(14.0, ge=0, description="A model younger than this...")
    young_model: float = Field(1.1, gt=0, description="...has its score multiplied by this.")

    @model_validator(mode="after")
    def _levels(self) -> ContextFactors:
        problems: list[InitErrorDetails] = []
        for field, levels in (("criticality", ("low", "medium", "high")),
                              ("customer_impact", ("none", "low", "medium", "high"))):
            for key, value in getattr(self, field).items():
                if key not in levels:
                    problems.append(problem((field, key), f"unknown level {key!r}; expected one "
                                            f"of {', '.join(levels)}", key))
                elif value <= 0:
                    problems.append(problem((field, key), f"multiplier must be > 0, got "
                                            f"{value:g}", value))
        raise_problems("context", problems)
        return self


class ScoringPolicy(Section):
    weights: Weights = Field(default_factory=Weights, description="Weight per signal kind.")
    floors: Floors = Field(default_factory=Floors, description="Noise floor per signal kind.")
    softmax_power: float = Field(
        4.0, ge=1, description="p of the p-norm that combines signals of one kind."
    )
    persistence: Persistence = Field(
        default_factory=Persistence, description="Transient vs persistent anomalies."
    )
    tiers: Tiers = Field(default_factory=Tiers, description="Score thresholds of T1 < T2 < T3.")
    seasonality: Seasonality | None = Field(
        None, description="Seasonal baselines; unset: off."
    )
    context: ContextFactors = Field(
        default_factory=ContextFactors, description="Business-context multipliers."
    )
    top_contributors: int = Field(5, ge=1, description="Contributors listed in an explanation.")

