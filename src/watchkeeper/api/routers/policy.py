"""/v1/policy: read the current policy, validate a candidate, apply one (admin; audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from watchkeeper.api.deps import PrincipalDep, StateDep, allow
from watchkeeper.core.errors import PolicyError
from watchkeeper.engine import policy_service
from watchkeeper.engine.access import Permission
from watchkeeper.policy.loader import MAX_POLICY_BYTES

router = APIRouter(prefix="/v1/policy", tags=["policy"])


class PolicyText(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_POLICY_BYTES,
                      description="The whole watchkeeper.yaml, as text.")


class ApplyBody(PolicyText):
    comment: str = Field("", max_length=2000, description="Why; kept with the version.")


def _problems(exc: PolicyError) -> list[dict[str, Any]]:
    return [policy_service.split_problem(p) for p in exc.problems]


@router.get("")
def get_policy(who: PrincipalDep, st: StateDep) -> dict[str, Any]:
    """The policy in force: its text, version and sha256."""
    allow(st, who, Permission.READ, None, "policy.read")
    with st.store.session(read_only=True) as db:
        return policy_service.current(db, st.policy).to_dict()


@router.post("/validate")
async def validate(body: PolicyText, who: PrincipalDep, st: StateDep) -> dict[str, Any]:
    """Check a candidate policy; every problem comes back with its YAML path and line."""
    await run_in_threadpool(allow, st, who, Permission.READ, None, "policy.validate")
    base = st.policy.base_dir if st.policy is not None else None
    try:
        policy = await run_in_threadpool(policy_service.validate, body.text, base_dir=base)
    except PolicyError as exc:
        return {"valid": False, "problems": _problems(exc)}
    return {"valid": True, "problems": [], "models": policy.model_names(),
            "sha256": policy_service.sha256(body.text)}


@router.post("/apply")
def apply(body: ApplyBody, who: PrincipalDep, st: StateDep) -> dict[str, Any]:
    """Store the policy as a new version (audited) and put it in force in this process.
    A policy with problems is refused with 422 listing them; nothing changes."""
    allow(st, who, Permission.ADMIN, None, "policy.apply")
    base = st.policy.base_dir if st.policy is not None else None
    with st.store.session() as s:  # its own transaction: in force only once committed
        policy, version = policy_service.apply(s, body.text, actor=who.name,
                                               now=st.clock.now(), comment=body.comment,
                                               base_dir=base)
    st.policy = policy
    return {"version": version, "sha256": policy_service.sha256(body.text),
            "models": policy.model_names()}
