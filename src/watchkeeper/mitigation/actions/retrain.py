"""retrain: queue a sandboxed retraining run on the incident's data window. A worker runs it
(`service.run_retrain`) outside the triage transaction; gates and a staged rollout follow."""

from __future__ import annotations

from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Request, Result

ID = "retrain"


def plan(ctx: ActionContext) -> Plan:
    return service.plan_training(ctx, ID)


def execute(ctx: ActionContext) -> Result:
    p = plan(ctx)

    def work(run: object) -> Result:
        run_id = run.id  # type: ignore[attr-defined]
        if not p.allowed:
            return Result(ID, "skipped", p.blocked, run_id)
        return Result(ID, "queued", p.summary, run_id, p.details,
                      (Request("retrain", ctx.incident.id, ctx.model, ctx.tier, p.summary,
                               run_id),))

    return service.once(ctx, ID, p, work)
