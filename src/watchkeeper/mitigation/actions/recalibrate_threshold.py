"""recalibrate_threshold: choose the champion's decision threshold again on the most recent
labelled rows and roll it out as a new version (same artifact, new threshold), through the
same gates and stages as a retrained model. Binary classifiers only."""

from __future__ import annotations

from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Request, Result

ID = "recalibrate_threshold"


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
