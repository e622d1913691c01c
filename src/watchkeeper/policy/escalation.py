"""`escalation:` and `routes:` — how long a tier waits for an acknowledgement, and where its
notifications go."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_core import InitErrorDetails

from watchkeeper.core.enums import Tier
from watchkeeper.policy.common import Duration, Name, Section, TierKey, problem, raise_problems


class EscalationStep(Section):
    ack_within: Duration = Field(description="Escalate when nobody acknowledges within this.")
    then: TierKey | None = Field(None, description="The tier to escalate to; unset: stay here.")
    remind_every: Duration | None = Field(
        None, description="Re-notify while unacknowledged; unset: no reminders."
    )
    deputy_after: Duration | None = Field(
        None, description="Page the on-call deputies if silent this long (before ack_within)."
    )

    @model_validator(mode="after")
    def _deputy_first(self) -> EscalationStep:
        if self.deputy_after is not None and self.deputy_after >= self.ack_within:
            raise_problems("step", [problem(
                ("deputy_after",), "deputy_after must be shorter than ack_within, or the tier "
                "escalates before any deputy is paged")])
        return self


def _check_ladder(steps: dict[Tier, EscalationStep]) -> dict[Tier, EscalationStep]:
    """Escalation only goes up: a `then:` at or below its own tier would loop forever."""
    problems: list[InitErrorDetails] = []
    for tier, step in steps.items():
        if step.then is not None and step.then <= tier:
            problems.append(problem((tier.name, "then"), f"{step.then.name} is not above "
                                    f"{tier.name}; escalation only goes up", step.then.name))
    raise_problems("escalation", problems)
    return steps


Escalation = Annotated[dict[TierKey, EscalationStep], AfterValidator(_check_ladder)]

AUDIENCES = ("oncall", "executive", "customer", "regulator", "partner")
EXTERNAL_AUDIENCES = frozenset({"customer", "regulator", "partner"})


def _route_shorthand(value: object) -> object:
    return {"channel": value} if isinstance(value, str) else value


class RouteTarget(Section):
    channel: Name = Field(description="A key of channels:.")
    audience: Literal[AUDIENCES] | None = Field(  # type: ignore[valid-type]
        None, description="Who reads it here; unset: the channel's audience."
    )


RouteItem = Annotated[RouteTarget, BeforeValidator(_route_shorthand)]
