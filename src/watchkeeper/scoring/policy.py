"""The policy's `scoring:` section and model entries, read into scoring's own values.

The policy (pydantic, `watchkeeper.policy`) says what users wrote; scoring works on the frozen
`ScoringConfig`. Kept in one place so the two never drift apart silently.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from watchkeeper.core.enums import SignalKind
from watchkeeper.policy import ModelPolicy, Policy
from watchkeeper.policy.scoring import ScoringPolicy
from watchkeeper.scoring.config import (
    ContextFactors,
    PersistenceConfig,
    ScoringConfig,
    SeasonalityConfig,
    TierBands,
)
from watchkeeper.scoring.context import ModelContext


def config_from_policy(policy: Policy | ScoringPolicy, *, label: str = "policy") -> ScoringConfig:
    sp = policy.scoring if isinstance(policy, Policy) else policy
    p, t, c = sp.persistence, sp.tiers, sp.context
    seasonality = SeasonalityConfig()
    if sp.seasonality is not None:
        slot = "hour_of_day" if sp.seasonality.period == timedelta(days=1) else "hour_of_week"
        seasonality = SeasonalityConfig(enabled=True, slot=slot, history=sp.seasonality.history)
    return ScoringConfig(
        weights={k: sp.weights.of(k) for k in SignalKind},
        floors={k: sp.floors.of(k) for k in SignalKind},
        softmax_power=sp.softmax_power,
        bands=TierBands(t.T1, t.T2, t.T3),
        persistence=PersistenceConfig(
            windows=p.windows, required=p.required, hysteresis=p.hysteresis, clear=p.clear,
            flap_window=p.flap_window, flap_reentries=p.flap_reentries),
        seasonality=seasonality,
        context=ContextFactors(
            criticality=dict(c.criticality), regulatory=c.regulatory,
            customer_impact=dict(c.customer_impact), young_model_days=c.young_model_days,
            young_model=c.young_model),
        top_contributors=sp.top_contributors,
        label=label,
    )


def importance_of(model: ModelPolicy) -> dict[str, float] | None:
    """Feature importances scaled so the most important feature has 1; None when unset."""
    given: dict[str, Any] = {
        name: f.importance for name, f in model.data_schema.features.items()
        if f.importance is not None
    }
    top = max(given.values(), default=0.0)
    if top <= 0:
        return None
    return {name: float(v) / top for name, v in given.items()}


def context_of(model: ModelPolicy, *, age_days: float | None = None) -> ModelContext:
    return ModelContext.from_model(model, age_days=age_days)
