"""`playbooks:` (actions per tier) and `mitigation:` (who may pull the kill switch, what a
retrained candidate must pass, how it is rolled out)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_core import InitErrorDetails

from watchkeeper.core.enums import Criticality, Tier
from watchkeeper.policy.catalogue import ACTIONS
from watchkeeper.policy.common import (
    Duration,
    Name,
    Section,
    TierKey,
    listify,
    one_of,
    problem,
    raise_problems,
)


def _check_playbooks(books: dict[Tier, list[str]]) -> dict[Tier, list[str]]:
    problems: list[InitErrorDetails] = []
    for tier, actions in books.items():
        for i, action in enumerate(actions):
            if action not in ACTIONS:
                problems.append(problem((tier.name, i), f"unknown action {action!r}; expected "
                                        f"one of {one_of(ACTIONS)}", action))
            elif action in actions[:i]:
                problems.append(problem((tier.name, i), f"action {action!r} is listed twice",
                                        action))
    raise_problems("playbooks", problems)
    return books


Playbooks = Annotated[
    dict[TierKey, Annotated[list[str], BeforeValidator(listify)]],
    AfterValidator(_check_playbooks),
]


# --- promotion gates: what a retrained candidate must pass before it serves traffic ---------


class ValidationGate(Section):
    method: Literal["holdout", "cv"] = Field("holdout", description="holdout or k-fold cv.")
    holdout_fraction: float = Field(0.2, gt=0, lt=1, description="Share held out (holdout).")
    folds: int = Field(5, ge=2, le=20, description="Folds (cv).")


class ChampionGate(Section):
    enabled: bool = Field(True, description="The candidate must beat the serving model.")
    metric: str | None = Field(
        None, description="Metric compared; unset: the model's first KPI (else the task's "
        "usual one: f1, f1_macro or rmse)."
    )
    margin: float = Field(
        0.0, ge=0, description="By at least this much (absolute) on the validation data."
    )


class CalibrationGate(Section):
    enabled: bool = Field(True, description="Probabilities must stay calibrated.")
    max_ece: float = Field(0.05, gt=0, le=1, description="Largest expected calibration error.")


class FairnessGate(Section):
    attribute: str | None = Field(
        None, description="Column holding the protected attribute; unset: gate off."
    )
    metric: Literal["demographic_parity", "equal_opportunity"] = Field(
        "demographic_parity", description="Gap measured between groups of the attribute."
    )
    max_gap: float = Field(0.1, gt=0, le=1, description="Largest allowed gap between groups.")


class LatencyGate(Section):
    max_p99_ms: float | None = Field(
        None, gt=0, description="Candidate p99 latency budget; unset: the latency KPI, if any."
    )


class SanityGate(Section):
    enabled: bool = Field(True, description="Predictions must be finite and plausible.")
    max_prediction_shift: float = Field(
        0.2, gt=0, le=1, description="Largest shift of the mean prediction (or positive rate) "
        "versus the champion on the same data."
    )


class OodGate(Section):
    enabled: bool = Field(True, description="Training data must look like recent traffic.")
    max_ood_share: float = Field(
        0.1, gt=0, le=1, description="Largest share of recent events outside the training "
        "data's support."
    )


class Gates(Section):
    validation: ValidationGate = Field(default_factory=ValidationGate, description="How "
                                       "candidates are evaluated.")
    beat_champion: ChampionGate = Field(default_factory=ChampionGate, description="Improvement.")
    calibration: CalibrationGate = Field(default_factory=CalibrationGate, description="ECE.")
    fairness: FairnessGate = Field(default_factory=FairnessGate, description="Group gap.")
    latency: LatencyGate = Field(default_factory=LatencyGate, description="Latency budget.")
    prediction_sanity: SanityGate = Field(default_factory=SanityGate, description="Sanity.")
    ood: OodGate = Field(default_factory=OodGate, description="Out-of-distribution check.")


class Rollout(Section):
    steps: list[float] = Field(
        default_factory=lambda: [5.0, 25.0, 50.0, 100.0],
        min_length=1, description="Traffic percentages of the canary steps, ending at 100.",
    )
    dwell: Duration = Field(timedelta(hours=1), description="Time at each step before the next.")
    max_kpi_drop: float = Field(
        0.02, ge=0, description="Roll back when the canary's primary KPI is worse than the "
        "champion's by more than this (absolute)."
    )
    max_error_rate: float = Field(
        0.01, ge=0, le=1, description="Roll back when the canary's error rate exceeds this."
    )

    @model_validator(mode="after")
    def _ascending(self) -> Rollout:
        problems: list[InitErrorDetails] = []
        for i, step in enumerate(self.steps):
            if not 0 < step <= 100:
                problems.append(problem(("steps", i), f"step {step:g} is not a percentage in "
                                        "(0, 100]", step))
            elif i and step <= self.steps[i - 1]:
                problems.append(problem(("steps", i), f"step {step:g} is not above the previous "
                                        f"step ({self.steps[i - 1]:g}); steps ascend", step))
        if not problems and self.steps[-1] != 100:
            problems.append(problem(("steps", len(self.steps) - 1), "the last step must be 100 "
                                    "(full traffic)", self.steps[-1]))
        raise_problems("rollout", problems)
        return self


class SignOff(Section):
    criticality: Annotated[list[Criticality], BeforeValidator(listify)] = Field(
        default_factory=lambda: [Criticality.HIGH],
        description="Criticalities whose redeploys need a person's sign-off.",
    )
    regulatory: bool = Field(True, description="Regulated models always need sign-off.")
    roles: Annotated[list[Name], BeforeValidator(listify)] = Field(
        default_factory=list, description="Roles that may sign off; unset: accountable of the tier."
    )


class MitigationPolicy(Section):
    kill_switch_roles: Annotated[list[Name], BeforeValidator(listify)] = Field(
        default_factory=list, description="Roles allowed to pull and restore the kill switch."
    )
    two_person_rule: bool = Field(
        True, description="Kill switch and promotions need a second person to confirm."
    )
    sign_off: SignOff = Field(default_factory=SignOff, description="Human sign-off before "
                              "redeploying.")
    gates: Gates = Field(default_factory=Gates, description="What a candidate must pass.")
    rollout: Rollout = Field(default_factory=Rollout, description="Staged rollout.")
    quarantine_on_data_quality: bool = Field(
        True, description="Data-quality causes quarantine the data instead of retraining on it."
    )


class IncidentsPolicy(Section):
    resolve_after_healthy_windows: int = Field(
        3, ge=1, description="Consecutive healthy windows that resolve an incident."
    )
    group_within: Duration = Field(
        timedelta(hours=1), description="New anomalies of a model join its open incident "
        "if within this."
    )
    postmortem_tiers: Annotated[list[TierKey], BeforeValidator(listify)] = Field(
        default_factory=lambda: [Tier.T2, Tier.T3],
        description="Incidents that reached these tiers need a post-mortem to close.",
    )

