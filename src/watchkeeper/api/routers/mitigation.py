"""/v1 mitigation: playbook dry runs, retraining runs, rollouts, sign-off and the canary verdict
(for Argo Rollouts' web metric provider and Flagger's webhooks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import JSONResponse

from watchkeeper.api.deps import (
    PrincipalDep,
    SessionDep,
    StateDep,
    allow,
    allow_incident,
    guarded,
    policy_of,
)
from watchkeeper.engine.access import Permission
from watchkeeper.mitigation import service as mitigation

router = APIRouter(prefix="/v1", tags=["mitigation"])


def _rollout(row: Any) -> dict[str, Any]:
    return {"id": row.id, "model": row.model, "candidate": row.candidate,
            "baseline": row.baseline, "state": row.state, "step": row.step,
            "needs_sign_off": row.needs_sign_off, "signed_off_by": row.signed_off_by,
            "started_by": row.started_by, "started_at": row.started_at,
            "incident_id": row.incident_id, "run_id": row.run_id, "verdicts": row.verdicts}


@router.get("/incidents/{incident_id}/playbook")
def playbook(incident_id: str, db: SessionDep, who: PrincipalDep,
             st: StateDep) -> list[dict[str, Any]]:
    """Dry run: what the playbook would do for this incident now (changes nothing)."""
    allow_incident(st, who, Permission.READ, incident_id, "playbook.read")
    return [p.to_dict() for p in mitigation.plan_incident(db, policy_of(st), incident_id,
                                                          st.clock.now(), st.data_dir)]


@router.get("/incidents/{incident_id}/mitigation-runs")
def runs(incident_id: str, db: SessionDep, who: PrincipalDep,
         st: StateDep) -> list[dict[str, Any]]:
    allow_incident(st, who, Permission.READ, incident_id, "runs.read")
    return [{"id": r.id, "action": r.action, "status": r.status, "started_at": r.started_at,
             "finished_at": r.finished_at, "actor": r.actor, "plan": r.plan, "result": r.result}
            for r in mitigation.list_runs(db, incident_id=incident_id)]


@router.post("/mitigation-runs/{run_id}/start", status_code=202)
def start_run(run_id: str, background: BackgroundTasks, db: SessionDep, who: PrincipalDep,
              st: StateDep) -> dict[str, Any]:
    """Run a queued retraining run now, in the background (a worker does this in a fleet)."""
    with st.store.session(read_only=True) as s:
        run = mitigation.get_run(s, run_id)
    allow(st, who, Permission.OPERATE, run.model, "retrain")
    background.add_task(mitigation.run_retrain, st.store, policy_of(st), run_id,
                        data_dir=st.data_dir, clock=st.clock, actor=who.name)
    return {"run_id": run_id, "status": run.status}


@router.get("/models/{model}/rollouts")
def rollouts(model: str, db: SessionDep, who: PrincipalDep,
             st: StateDep) -> list[dict[str, Any]]:
    allow(st, who, Permission.READ, model, "rollouts.read")
    return [_rollout(r) for r in mitigation.list_rollouts(db, model)]


@router.post("/rollouts/{rollout_id}/sign-off")
def sign_off(rollout_id: str, who: PrincipalDep, st: StateDep) -> dict[str, Any]:
    """Approve promotion. Needs approve rights and one of the policy's sign-off roles; under
    the two-person rule the approver may not be who started the rollout."""
    with st.store.session(read_only=True) as s:
        model = mitigation.get_rollout(s, rollout_id).model
    allow(st, who, Permission.APPROVE, model, "sign_off")
    return guarded(st, who.name, model, "sign_off", lambda s: _rollout(mitigation.sign_off(
        s, policy_of(st), rollout_id, approver=who.name, now=st.clock.now())))


def _verdict(model: str, db: Any, who: Any, st: Any, canary: int | None,
             baseline: int | None, since: datetime | None, strict: bool) -> Any:
    allow(st, who, Permission.READ, model, "canary_verdict")
    verdict = mitigation.canary_verdict(db, policy_of(st), model, st.clock.now(), st.data_dir,
                                        canary=canary, baseline=baseline, since=since)
    if strict and not verdict["healthy"]:  # Flagger webhooks read the status code
        return JSONResponse(verdict, status_code=412)
    return verdict


@router.get("/models/{model}/canary-verdict")
def canary_verdict(model: str, db: SessionDep, who: PrincipalDep, st: StateDep,
                   canary: int | None = None, baseline: int | None = None,
                   since: datetime | None = None,
                   strict: bool = Query(False, description="412 when the canary regressed"),
                   ) -> Any:
    """Canary vs champion on live signals; `healthy_int` is 1 or 0 for Argo Rollouts'
    successCondition, `strict=true` answers 412 on regression for Flagger webhooks."""
    return _verdict(model, db, who, st, canary, baseline, since, strict)


@router.post("/models/{model}/canary-verdict")
def canary_verdict_webhook(model: str, db: SessionDep, who: PrincipalDep, st: StateDep,
                           canary: int | None = None, baseline: int | None = None,
                           strict: bool = True) -> Any:
    """The same for Flagger's webhooks (POST; strict by default)."""
    return _verdict(model, db, who, st, canary, baseline, None, strict)
