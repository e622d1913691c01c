"""The playbook actions: one module each, with `plan(ctx)` (no side effects) and an idempotent,
audited `execute(ctx)`. The ids are exactly the policy's (`watchkeeper.policy.catalogue.ACTIONS`;
a test checks it)."""

from __future__ import annotations

from types import ModuleType

from watchkeeper.mitigation.actions import (
    freeze,
    human_review,
    kill_switch,
    notify,
    page,
    quarantine,
    recalibrate_threshold,
    retrain,
    rollback,
)
from watchkeeper.mitigation.actions.base import ActionContext, Plan, Request, Result

ACTIONS: dict[str, ModuleType] = {
    m.ID: m
    for m in (notify, page, human_review, retrain, rollback, kill_switch, quarantine, freeze,
              recalibrate_threshold)
}

__all__ = ["ACTIONS", "ActionContext", "Plan", "Request", "Result"]
