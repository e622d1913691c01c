"""The business context of a model turns the same evidence into more or less urgency.

Context multiplies the fused *hazard* (see fusion.py), never the severities: a healthy window
(hazard 0) stays at score 0 whatever the model's criticality, while the same drift on a
regulated, high-criticality model reaches a higher tier than on a low-stakes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watchkeeper.core.errors import InputError
from watchkeeper.scoring.config import ContextFactors


@dataclass(frozen=True, slots=True)
class ModelContext:
    criticality: str = "medium"  # low | medium | high
    regulatory: bool = False
    customer_impact: str = "medium"  # none | low | medium | high
    age_days: float | None = None  # days since the deployed version went live

    @classmethod
    def from_model(cls, model: Any, *, age_days: float | None = None) -> ModelContext:
        """From a policy model entry (object or mapping) with criticality/regulatory/
        customer_impact; missing attributes keep their defaults."""
        get = model.get if isinstance(model, dict) else lambda k, d=None: getattr(model, k, d)
        return cls(
            criticality=_word(get("criticality", "medium")),
            regulatory=bool(get("regulatory", False)),
            customer_impact=_word(get("customer_impact", "medium")),
            age_days=age_days,
        )


def _word(value: Any) -> str:
    if value is None:
        return "medium"
    if isinstance(value, bool):  # customer_impact: true/false in some policies
        return "high" if value else "none"
    return str(getattr(value, "value", value)).lower()


def context_multiplier(ctx: ModelContext, factors: ContextFactors) -> tuple[float, list[str]]:
    """The hazard multiplier and the reasons for it, in words."""
    try:
        crit = factors.criticality[ctx.criticality]
    except KeyError:
        raise InputError(
            f"unknown criticality {ctx.criticality!r}", field="criticality",
            expected=", ".join(factors.criticality),
        ) from None
    try:
        impact = factors.customer_impact[ctx.customer_impact]
    except KeyError:
        raise InputError(
            f"unknown customer impact {ctx.customer_impact!r}", field="customer_impact",
            expected=", ".join(factors.customer_impact),
        ) from None
    value = crit * impact
    reasons: list[str] = []
    if crit != 1.0:
        reasons.append(f"{ctx.criticality} criticality")
    if impact != 1.0:
        reasons.append(f"{ctx.customer_impact} customer impact")
    if ctx.regulatory:
        value *= factors.regulatory
        reasons.append("regulatory exposure")
    if ctx.age_days is not None and ctx.age_days < factors.young_model_days:
        value *= factors.young_model
        reasons.append(f"model live for only {ctx.age_days:.0f} days")
    return value, reasons
