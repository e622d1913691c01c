"""Policy versions: read the current text, validate a candidate, apply one (stored + audited).

Shared by the API and the CLI, so "apply" means the same thing everywhere: the text must parse
with no problem, it is stored as a `policy_versions` row and the audit trail gets a
POLICY_APPLIED entry naming the version and its sha256, in one transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper import audit
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.errors import NotFoundError
from watchkeeper.policy import Policy, parse_policy
from watchkeeper.store.tables.foundation import PolicyVersion

# "models[0].owner: unknown person 'bob' (line 14)" -> path, message, line
_PROBLEM = re.compile(r"^(?P<path>[^:]*): (?P<message>.*?)(?: \(line (?P<line>\d+)\))?$",
                      re.DOTALL)


@dataclass(frozen=True, slots=True)
class CurrentPolicy:
    text: str
    version: int | None  # the policy_versions row; None: never applied, read from its file
    sha256: str
    applied_at: datetime | None
    actor: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "version": self.version, "sha256": self.sha256,
                "applied_at": self.applied_at.isoformat() if self.applied_at else None,
                "actor": self.actor, "source": self.source}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def split_problem(problem: str) -> dict[str, Any]:
    """A PolicyError problem line as {path, message, line}."""
    m = _PROBLEM.match(problem)
    if m is None:
        return {"path": "", "message": problem, "line": None}
    line = m.group("line")
    return {"path": m.group("path"), "message": m.group("message"),
            "line": int(line) if line else None}


def validate(text: str, *, source: str = "<request>", base_dir: Path | None = None) -> Policy:
    """Parse `text`; raises PolicyError listing every problem (with paths and lines)."""
    return parse_policy(text, source, base_dir=base_dir)


def current(session: Session, loaded: Policy | None) -> CurrentPolicy:
    """The latest applied version, else the text of the file the service was started with."""
    row = session.scalars(select(PolicyVersion).order_by(PolicyVersion.id.desc())
                          .limit(1)).first()
    if row is not None:
        return CurrentPolicy(row.text, row.id, row.sha256, row.applied_at, row.actor,
                             "policy_versions")
    if loaded is None:
        raise NotFoundError("no policy is loaded; start the service with --policy FILE")
    path = Path(loaded.source)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return CurrentPolicy(text, None, sha256(text), None, None, loaded.source)


def apply(session: Session, text: str, *, actor: str, now: datetime, comment: str = "",
          base_dir: Path | None = None, source: str = "<request>") -> tuple[Policy, int]:
    """Validate and store `text` as the new policy version; audited. Returns (policy, version).
    Nothing is written when the text has a problem (PolicyError lists them all)."""
    policy = validate(text, source=source, base_dir=base_dir)
    digest = sha256(text)
    row = PolicyVersion(sha256=digest, text=text, applied_at=ensure_utc(now), actor=actor,
                        comment=comment)
    session.add(row)
    session.flush()  # the id names the version in the audit entry
    audit.append(session, actor=actor, action=AuditAction.POLICY_APPLIED,
                 subject=f"policy:{row.id}",
                 details={"version": row.id, "sha256": digest, "comment": comment[:500],
                          "models": policy.model_names()[:100], "n_models": len(policy.models)},
                 at=now)
    return policy, row.id


def latest_version(session: Session) -> int:
    """The id of the newest applied version (0: none)."""
    return int(session.scalar(select(PolicyVersion.id).order_by(PolicyVersion.id.desc())
                              .limit(1)) or 0)


def newer(session: Session, than: int, *, base_dir: Path | None = None
          ) -> tuple[Policy, int] | None:
    """The newest applied policy if its version is above `than` (for processes that follow
    applies made elsewhere, e.g. a scheduler when the API applied one)."""
    row = session.scalars(select(PolicyVersion).where(PolicyVersion.id > than)
                          .order_by(PolicyVersion.id.desc()).limit(1)).first()
    if row is None:
        return None
    return validate(row.text, source=f"policy version {row.id}", base_dir=base_dir), row.id
