"""notify: the tier's routes and RACI people hear of the incident. Escalation does the sending
(mitigation never calls notifiers); this action only records that it is implied."""

from __future__ import annotations

from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Result

ID = "notify"


def plan(ctx: ActionContext) -> Plan:
    return Plan(ID, ctx.model, ctx.incident.id,
                f"escalation notifies the {ctx.tier} routes and RACI people")


def execute(ctx: ActionContext) -> Result:
    p = plan(ctx)
    return service.once(ctx, ID, p, lambda run: Result(ID, "delegated", p.summary, run.id))
