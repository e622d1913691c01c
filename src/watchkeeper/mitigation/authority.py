"""Which policy roles a person holds, for decisions the policy reserves to roles (kill switch,
sign-off). Members of an on-call rotation (and its deputies) hold the rotation's roles at any
time: authority does not change at hand-over, only who is paged does."""

from __future__ import annotations

from watchkeeper.policy import ONCALL_PREFIX, Policy


def roles_held(policy: Policy, person: str, model: str | None = None) -> set[str]:
    held = set()
    names = set(policy.roles) | (set(policy.model(model).roles) if model else set())
    for role in names:
        for member in policy.role_members(role, model):
            if member == person:
                held.add(role)
            elif member.startswith(ONCALL_PREFIX):
                rotation = policy.oncall.get(member.removeprefix(ONCALL_PREFIX))
                if rotation and person in (*rotation.members, *rotation.deputies):
                    held.add(role)
    if model is not None and policy.model(model).owner == person:
        held.add("model_owner")
    return held
