"""API tokens and what each role may do; shared by the API, the dashboard and the CLI.

Tokens are random 32-byte secrets shown once; only their sha256 is stored (a fast hash is
right here: the secret has 256 bits of entropy, so there is nothing to brute-force).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper import audit
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.enums import Role
from watchkeeper.core.errors import InputError, NotFoundError, PermissionDenied
from watchkeeper.core.ids import new_id
from watchkeeper.store.tables.service import ApiToken

TOKEN_PREFIX = "wk_"


class Permission(StrEnum):
    READ = "read"  # every page and GET
    RESPOND = "respond"  # acknowledge, comment, escalate, resolve, dismiss, silence, post-mortem
    OPERATE = "operate"  # ingest, retrain, roll out, roll back, kill switch (plus policy roles)
    APPROVE = "approve"  # sign-offs and external messages
    ADMIN = "admin"  # tokens, policy apply


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.RESPONDER: frozenset({Permission.READ, Permission.RESPOND}),
    Role.MODEL_OWNER: frozenset({Permission.READ, Permission.RESPOND, Permission.OPERATE}),
    Role.APPROVER: frozenset({Permission.READ, Permission.RESPOND, Permission.APPROVE}),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    models: tuple[str, ...]  # ("*",) = all
    token_id: str | None = None

    def covers(self, model: str | None) -> bool:
        return model is None or "*" in self.models or model in self.models


# Used when the admin turns authentication off explicitly (local use only).
ANONYMOUS_ADMIN = Principal("local-user", Role.ADMIN, ("*",))


def roles_with(permission: Permission) -> list[str]:
    return [r.value for r, perms in GRANTS.items() if permission in perms]


def authorize(principal: Principal, permission: Permission, model: str | None = None) -> None:
    if permission not in GRANTS[principal.role]:
        raise PermissionDenied(
            f"{principal.name} ({principal.role.value}) may not {permission.value}; "
            f"needs one of the roles: {', '.join(roles_with(permission))}"
        )
    if not principal.covers(model):
        raise PermissionDenied(
            f"{principal.name}'s token is scoped to {', '.join(principal.models)}, not {model}"
        )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    name: str,
    role: str,
    models: Sequence[str] = ("*",),
    created_by: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> tuple[str, ApiToken]:
    """Returns (secret, row). The secret is not stored; show it once."""
    try:
        parsed = Role(role)
    except ValueError:
        raise InputError(f"unknown role {role!r}", field="role",
                         expected=", ".join(r.value for r in Role)) from None
    if not name.strip():
        raise InputError("a token needs a name (the person or system using it)", field="name")
    scope = [m.strip() for m in models if m.strip()] or ["*"]
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(id=new_id("tok"), name=name.strip(), sha256=_hash(secret), role=parsed.value,
                   models=scope, created_at=ensure_utc(now), created_by=created_by,
                   expires_at=ensure_utc(expires_at) if expires_at else None)
    session.add(row)
    audit.append(session, actor=created_by, action=AuditAction.TOKEN_CREATED, subject=row.id,
                 details={"name": row.name, "role": row.role, "models": scope}, at=now)
    return secret, row


def authenticate(session: Session, secret: str, now: datetime) -> Principal | None:
    """The principal of a valid, unrevoked, unexpired token; None otherwise."""
    who, _ = identify(session, secret, now)
    if who is not None:
        touch(session, who, now)
    return who


# last_used_at is for people reviewing tokens; minute precision is plenty, and not writing it
# on every request keeps authentication off the SQLite write lock under load.
TOUCH_EVERY = timedelta(minutes=1)


def identify(session: Session, secret: str, now: datetime) -> tuple[Principal | None, bool]:
    """Read-only: (principal or None, whether its last_used_at is due for an update)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None, False
    row = session.scalars(select(ApiToken).where(ApiToken.sha256 == _hash(secret))).first()
    if row is None or row.revoked_at is not None:
        return None, False
    now = ensure_utc(now)
    if row.expires_at is not None and now >= row.expires_at:
        return None, False
    stale = row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY
    return Principal(row.name, Role(row.role), tuple(row.models), row.id), stale


def touch(session: Session, who: Principal, now: datetime) -> None:
    row = session.get(ApiToken, who.token_id) if who.token_id else None
    if row is not None:
        row.last_used_at = ensure_utc(now)


def revoke_token(session: Session, token_id: str, *, actor: str, now: datetime) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFoundError(f"no token {token_id!r}")
    row.revoked_at = ensure_utc(now)
    audit.append(session, actor=actor, action=AuditAction.TOKEN_REVOKED, subject=token_id,
                 details={"name": row.name}, at=now)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at)))


def record_denial(session: Session, *, actor: str, attempt: str, subject: str, reason: str,
                  now: datetime) -> None:
    """Refusals are audited too (in their own transaction: the refused one rolls back)."""
    audit.append(session, actor=actor, action=AuditAction.ACCESS_DENIED, subject=subject,
                 details={"attempt": attempt, "reason": reason[:500]}, at=now)
