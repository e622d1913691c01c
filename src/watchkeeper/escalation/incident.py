"""The incident as escalation sees it.

Escalation takes any incident-shaped object (the incidents stage's row or record, or this
dataclass) and reads only these attributes, so the two stages can evolve separately.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import InputError


@dataclass(frozen=True, slots=True)
class NextStep:
    text: str
    due: datetime | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: str
    model: str
    tier: Tier
    opened_at: datetime
    state: str = "open"
    tier_since: datetime | None = None  # when it reached its current tier; opened_at if None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    score: float | None = None
    title: str = ""
    summary: str = ""
    causes: tuple[str, ...] = ()
    confidence: float | None = None
    next_steps: tuple[NextStep, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)  # evidence, sample rows, ...

    @property
    def since(self) -> datetime:
        return self.tier_since or self.opened_at

    @classmethod
    def of(cls, obj: Any) -> IncidentView:
        """Read an incident-shaped object or mapping; errors name the missing field."""
        if isinstance(obj, IncidentView):
            return obj
        get = obj.get if isinstance(obj, Mapping) else (lambda k, d=None: getattr(obj, k, d))
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = get(f.name, None)
            if value is not None:
                values[f.name] = value
        for required in ("id", "model", "tier", "opened_at"):
            if required not in values:
                raise InputError("incident lacks a required field", field=required,
                                 expected="id, model, tier and opened_at")
        tier = values["tier"]
        values["tier"] = tier if isinstance(tier, Tier) else (
            Tier(tier) if isinstance(tier, int) else Tier.parse(str(tier)))
        for key in ("opened_at", "tier_since", "acknowledged_at", "resolved_at"):
            if key in values:
                values[key] = ensure_utc(values[key])
        values["state"] = str(getattr(values.get("state"), "value", values.get("state", "open")))
        values["causes"] = tuple(str(c) for c in values.get("causes", ()))
        values["next_steps"] = tuple(
            s if isinstance(s, NextStep) else NextStep(**s) if isinstance(s, Mapping)
            else NextStep(str(s)) for s in values.get("next_steps", ()))
        return cls(**values)
