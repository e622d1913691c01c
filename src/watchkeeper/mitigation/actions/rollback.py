"""rollback: take a rollout's canary out of traffic, or, with none running, route all traffic
back to the previous champion (the fallback version)."""

from __future__ import annotations

from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Result

ID = "rollback"


def plan(ctx: ActionContext) -> Plan:
    active = service.active_rollout(ctx.session, ctx.model)
    if active is not None:
        return Plan(ID, ctx.model, ctx.incident.id,
                    f"roll back rollout {active.id} (candidate v{active.candidate})",
                    {"rollout": active.id, "candidate": active.candidate})
    state = service.routing_state(ctx.session, ctx.model)
    if state.fallback_version is None or state.fallback_version == state.champion:
        return Plan(ID, ctx.model, ctx.incident.id, "nothing to roll back to", {}, False,
                    "no previous version and no rollout in progress")
    return Plan(ID, ctx.model, ctx.incident.id,
                f"serve v{state.fallback_version} again instead of v{state.champion}",
                {"from": state.champion, "to": state.fallback_version})


def execute(ctx: ActionContext) -> Result:
    p = plan(ctx)

    def work(run: object) -> Result:
        run_id = run.id  # type: ignore[attr-defined]
        if not p.allowed:
            return Result(ID, "skipped", p.blocked, run_id)
        reason = f"playbook {ctx.tier} for incident {ctx.incident.id}"
        if "rollout" in p.details:
            service.roll_back_rollout(ctx.session, ctx.policy, p.details["rollout"],
                                      actor=ctx.actor, now=ctx.now, reason=reason)
        else:
            service.set_champion(ctx.session, ctx.model, p.details["to"], actor=ctx.actor,
                                 now=ctx.now, data_dir=ctx.data_dir, reason=reason)
        return Result(ID, "done", p.summary, run_id, p.details)

    return service.once(ctx, ID, p, work)
