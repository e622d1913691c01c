"""freeze: pause automatic retraining and promotions of the model while the incident is active
(a person is looking; the machine should not move things under them)."""

from __future__ import annotations

from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Result

ID = "freeze"


def plan(ctx: ActionContext) -> Plan:
    return Plan(ID, ctx.model, ctx.incident.id, f"no automatic retraining or promotion of "
                f"{ctx.model} while incident {ctx.incident.id} is active")


def execute(ctx: ActionContext) -> Result:
    p = plan(ctx)
    return service.once(ctx, ID, p, lambda run: Result(ID, "done", p.summary, run.id))
