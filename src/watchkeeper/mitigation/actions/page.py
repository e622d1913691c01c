"""page: ask escalation to page the responsible on-call person now. Recorded on the incident's
timeline and returned as a request the engine hands to escalation (no notifier is called here).
"""

from __future__ import annotations

from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Request, Result

ID = "page"


def plan(ctx: ActionContext) -> Plan:
    why = (f"data quality: {ctx.cause.feature or 'input data'} broken"
           if ctx.cause.data_quality else ctx.incident.title)
    return Plan(ID, ctx.model, ctx.incident.id, f"page the {ctx.tier} on-call: {why}",
                {"reason": why})


def execute(ctx: ActionContext) -> Result:
    p = plan(ctx)
    request = Request("page", ctx.incident.id, ctx.model, ctx.tier, p.details["reason"])
    return service.once(ctx, ID, p, lambda run: Result(
        ID, "delegated", f"page requested: {p.details['reason']}", run.id,
        requests=(request,)))
