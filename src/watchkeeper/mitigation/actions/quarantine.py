"""quarantine: hold the broken window of input data back from retraining, naming the broken
feature and when it broke. The window stays open until the incident resolves."""

from __future__ import annotations

from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Result

ID = "quarantine"


def plan(ctx: ActionContext) -> Plan:
    since = ctx.cause.since or ctx.incident.change_point_at or ctx.incident.opened_at
    feature = ctx.cause.feature
    what = f"feature {feature!r}" if feature else "the input data"
    return Plan(ID, ctx.model, ctx.incident.id,
                f"quarantine {ctx.model}'s data from {since.isoformat()}: {what} broke "
                f"({ctx.cause.text or ctx.incident.title})",
                {"since": since.isoformat(), "feature": feature, "check": ctx.cause.kind,
                 "cause": ctx.cause.text})


def execute(ctx: ActionContext) -> Result:
    p = plan(ctx)

    def work(run: object) -> Result:
        q = service.quarantine_window(
            ctx.session, ctx.model, start=ctx.cause.since or ctx.incident.change_point_at
            or ctx.incident.opened_at, feature=p.details["feature"], check=p.details["check"],
            reason=p.summary, incident_id=ctx.incident.id, actor=ctx.actor, now=ctx.now)
        return Result(ID, "done", p.summary, run.id,  # type: ignore[attr-defined]
                      {**p.details, "quarantine_id": q.id})

    return service.once(ctx, ID, p, work)
