"""/v1/models: the models of the policy, their live routing state, route decisions, and the
kill switch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from watchkeeper.api.deps import PrincipalDep, SessionDep, StateDep, allow, guarded, policy_of
from watchkeeper.core.errors import InputError
from watchkeeper.engine.access import Permission
from watchkeeper.mitigation import service as mitigation
from watchkeeper.mitigation.authority import roles_held
from watchkeeper.policy import parse_duration

router = APIRouter(prefix="/v1/models", tags=["models"])


class KillSwitchBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    expires_in: str | None = Field(None, examples=["2h"], description="Auto-restore after this.")


class RestoreBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.get("")
def list_models(who: PrincipalDep, st: StateDep) -> list[dict[str, Any]]:
    policy = policy_of(st)
    return [{"name": m.name, "task": m.task.value, "criticality": m.criticality.value,
             "regulatory": m.regulatory, "owner": m.owner}
            for m in policy.models if who.covers(m.name)]


@router.get("/{model}/routing")
def routing(model: str, db: SessionDep, who: PrincipalDep, st: StateDep) -> dict[str, Any]:
    """The live routing state (what Python routers poll)."""
    allow(st, who, Permission.READ, model, "routing.read")
    return mitigation.routing_state(db, model).to_dict()


@router.get("/{model}/route")
def route(model: str, db: SessionDep, who: PrincipalDep, st: StateDep,
          key: str = "") -> dict[str, Any]:
    """The version to serve for one request (for servers that are not written in Python)."""
    allow(st, who, Permission.READ, model, "routing.read")
    d = mitigation.decide(db, model, key, st.clock.now())
    return {"model": d.model, "version": d.version, "role": d.role, "shadow": d.shadow,
            "rule": d.rule, "revision": d.revision, "reason": d.reason}


def _kill_roles(st: StateDep, model: str, who_name: str) -> tuple[set[str], list[str]]:
    policy = policy_of(st)
    policy.model(model)  # 404 for an unknown model
    return roles_held(policy, who_name, model), list(policy.mitigation.kill_switch_roles)


@router.post("/{model}/kill-switch")
def throw(model: str, body: KillSwitchBody, who: PrincipalDep,
          st: StateDep) -> dict[str, Any]:
    """Route all traffic to the model's fallback. Needs operate rights and a kill-switch role."""
    allow(st, who, Permission.OPERATE, model, "kill_switch")
    held, allowed = _kill_roles(st, model, who.name)
    try:
        expires = parse_duration(body.expires_in) if body.expires_in else None
    except ValueError as exc:
        raise InputError(str(exc), field="expires_in", expected="e.g. 30m, 2h, 1d") from None
    state = guarded(st, who.name, model, "kill_switch", lambda db: mitigation.throw_kill_switch(
        db, model, actor=who.name, actor_roles=held, allowed_roles=allowed, reason=body.reason,
        fallback=policy_of(st).model(model).fallback, now=st.clock.now(),
        expires_in=expires))
    return state.to_dict()


@router.delete("/{model}/kill-switch")
def restore(model: str, body: RestoreBody, who: PrincipalDep,
            st: StateDep) -> dict[str, Any]:
    allow(st, who, Permission.OPERATE, model, "kill_switch_restore")
    held, allowed = _kill_roles(st, model, who.name)
    state = guarded(st, who.name, model, "kill_switch_restore", lambda db: mitigation.restore(
        db, model, actor=who.name, actor_roles=held, allowed_roles=allowed, reason=body.reason,
        now=st.clock.now()))
    return state.to_dict()

