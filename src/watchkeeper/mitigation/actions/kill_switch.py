"""kill_switch: route all traffic to the model's fallback. The automatic actor may throw it
only because the policy's playbook asks for it at this tier; people go through the API's
role check (mitigation.kill_switch_roles) instead."""

from __future__ import annotations

from watchkeeper.core.errors import ConflictError, PermissionDenied
from watchkeeper.mitigation import service
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Result

ID = "kill_switch"
PLAYBOOK_ROLE = "playbook"  # what the automatic actor holds when the playbook lists the action


def plan(ctx: ActionContext) -> Plan:
    fallback = ctx.policy.model(ctx.model).fallback
    allowed = ID in ctx.playbook
    return Plan(ID, ctx.model, ctx.incident.id,
                f"stop serving {ctx.model}; traffic goes to the fallback ({fallback})",
                {"fallback": fallback}, allowed,
                "" if allowed else f"the {ctx.tier} playbook does not list kill_switch")


def execute(ctx: ActionContext) -> Result:
    p = plan(ctx)

    def work(run: object) -> Result:
        try:
            state = service.throw_kill_switch(
                ctx.session, ctx.model, actor=ctx.actor, actor_roles=[PLAYBOOK_ROLE],
                allowed_roles=[PLAYBOOK_ROLE] if p.allowed else [],
                reason=f"playbook {ctx.tier} for incident {ctx.incident.id}: "
                f"{ctx.incident.title}", fallback=p.details["fallback"], now=ctx.now)
        except PermissionDenied as exc:
            return Result(ID, "refused", str(exc), run.id)  # type: ignore[attr-defined]
        except ConflictError as exc:
            return Result(ID, "already_done", str(exc), run.id)  # type: ignore[attr-defined]
        return Result(ID, "done", f"kill switch thrown: traffic to {p.details['fallback']}",
                      run.id, {"revision": state.revision})  # type: ignore[attr-defined]

    return service.once(ctx, ID, p, work)
