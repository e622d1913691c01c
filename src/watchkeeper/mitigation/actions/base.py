"""What every playbook action gets and gives back.

An action module has an `ID`, a side-effect-free `plan(ctx) -> Plan` (what it would do; shown
in dry runs and recorded before execution) and an `execute(ctx) -> Result` that is idempotent
(one run per incident, action and tier: `ActionContext.key`) and audited. Execution happens in
the caller's session; work that takes long (training) is queued as a run for a worker.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from watchkeeper.core.enums import Tier
from watchkeeper.mitigation.playbook import RootCause
from watchkeeper.policy import Policy
from watchkeeper.store.tables.incidents import Incident

ACTOR = "watchkeeper"

Status = Literal["done", "queued", "waiting", "delegated", "already_done", "refused", "failed",
                 "skipped"]


@dataclass(slots=True)
class ActionContext:
    session: Session
    policy: Policy
    incident: Incident
    tier: Tier
    now: datetime
    data_dir: Path
    cause: RootCause
    playbook: list[str]  # every action chosen for this incident at this tier
    actor: str = ACTOR

    @property
    def model(self) -> str:
        return self.incident.model

    def key(self, action: str) -> str:
        return f"{self.incident.id}:{action}:{self.tier}"


@dataclass(frozen=True, slots=True)
class Plan:
    action: str
    model: str
    incident_id: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    allowed: bool = True
    blocked: str = ""  # why not, when not allowed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Request:
    """Something the engine must hand on: a page for escalation, a run for a worker."""

    type: Literal["page", "retrain", "review"]
    incident_id: str
    model: str
    tier: Tier
    reason: str
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tier"] = str(self.tier)
        return d


@dataclass(frozen=True, slots=True)
class Result:
    action: str
    status: Status
    summary: str
    run_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    requests: tuple[Request, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "status": self.status, "summary": self.summary,
                "run_id": self.run_id, "details": self.details,
                "requests": [r.to_dict() for r in self.requests]}
