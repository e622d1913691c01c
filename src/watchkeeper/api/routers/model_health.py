"""/v1/models/{model}/health, /scores and /signals: how a model is doing and why."""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query

from watchkeeper.api.deps import AppState, PrincipalDep, StateDep, allow, policy_of
from watchkeeper.core.records import Score
from watchkeeper.engine.access import Permission
from watchkeeper.incidents import service as incidents
from watchkeeper.ingest import IngestService
from watchkeeper.scoring.service import ScoringService
from watchkeeper.signals.service import SignalService

router = APIRouter(prefix="/v1/models", tags=["models"])
MAX_ROWS = 5000  # newest first beyond this; ask with a later `since`


def _json(value: Any) -> Any:
    """JSON-safe: NaN and infinities (no JSON spelling) become null, tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, int | str):
        return value.value
    return value


def score_dict(score: Score) -> dict[str, Any]:
    return _json({"window_start": score.window.start, "window_end": score.window.end,
                  "score": score.value, "tier": score.tier.name, "raw_tier": score.raw_tier.name,
                  "summary": score.summary, "config_version": score.config_version,
                  "contributors": [{**asdict(c), "kind": c.kind.value}
                                   for c in score.contributors]})


def _known(st: AppState, model: str, who: PrincipalDep, attempt: str) -> None:
    allow(st, who, Permission.READ, model, attempt)
    policy_of(st).model(model)  # 404 naming the known models


@router.get("/{model}/health")
def health(model: str, who: PrincipalDep, st: StateDep) -> dict[str, Any]:
    """The latest score, its tier and top contributors, and the model's open incidents."""
    _known(st, model, who, "model.health")
    scores = ScoringService(st.store, clock=st.clock).scores(model)
    latest = scores[-1] if scores else None
    with st.store.session(read_only=True) as s:
        open_rows = [incidents.as_dict(r) for r in incidents.active_incidents(s, model)]
    return _json({"model": model, "score": latest.value if latest else None,
                  "tier": latest.tier.name if latest else None,
                  "latest": score_dict(latest) if latest else None,
                  "windows_scored": len(scores), "open_incidents": open_rows})


@router.get("/{model}/scores")
def scores(model: str, who: PrincipalDep, st: StateDep, since: datetime | None = None,
           until: datetime | None = None) -> dict[str, Any]:
    """Scores per window (oldest first) with their explanations."""
    _known(st, model, who, "model.scores")
    rows = ScoringService(st.store, clock=st.clock).scores(model, since=since, until=until)
    return {"model": model, "truncated": len(rows) > MAX_ROWS,
            "scores": [score_dict(s) for s in rows[-MAX_ROWS:]]}


@router.get("/{model}/signals")
def signals(model: str, who: PrincipalDep, st: StateDep,
            window_start: datetime | None = None,
            window_end: datetime | None = Query(None, description="Exclusive.")
            ) -> dict[str, Any]:
    """Stored detector signals of windows starting in [window_start, window_end)."""
    _known(st, model, who, "model.signals")
    policy = policy_of(st)
    service = SignalService(st.store, policy, IngestService(st.store, policy, st.data_dir))
    rows = service.stored(model, window_start, window_end)
    return _json({"model": model, "truncated": len(rows) > MAX_ROWS,
                  "signals": [{"window_start": r.window.start, "window_end": r.window.end,
                               **r.signal.to_dict()} for r in rows[-MAX_ROWS:]]})
