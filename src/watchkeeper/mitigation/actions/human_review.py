"""human_review: open a review task; nothing changes until a person decides."""

from __future__ import annotations

from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Request, Result

ID = "human_review"


def plan(ctx: ActionContext) -> Plan:
    return Plan(ID, ctx.model, ctx.incident.id,
                "a person reviews the incident; no automatic change until they decide",
                {"responsible": ctx.policy.raci[ctx.tier].responsible
                 if ctx.tier in ctx.policy.raci else []})


def execute(ctx: ActionContext) -> Result:
    p = plan(ctx)
    request = Request("review", ctx.incident.id, ctx.model, ctx.tier, p.summary)
    return service.once(ctx, ID, p, lambda run: Result(ID, "waiting", "review requested",
                                                       run.id, p.details, (request,)))
