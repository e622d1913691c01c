"""The only module of the mitigation stage that touches the store: routing state, kill switch,
aliases. Every change bumps the routing revision (routers refresh on it) and is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from watchkeeper import audit
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.errors import ConflictError, InputError
from watchkeeper.mitigation import killswitch
from watchkeeper.mitigation.registry.local import LocalRegistry
from watchkeeper.mitigation.routing import KillSwitch, RouteDecision, RoutingState, route
from watchkeeper.store.tables.mitigation import RoutingStateRow


def registry(session: Session, data_dir: Path) -> LocalRegistry:
    return LocalRegistry(session, data_dir)


def _row(session: Session, model: str, now: datetime, *, lock: bool = False) -> RoutingStateRow:
    row = session.get(RoutingStateRow, model, with_for_update=lock)
    if row is None:
        row = RoutingStateRow(model=model, canary_share=0.0, kill_active=False,
                              kill_fallback="previous_version", kill_reason="", kill_by="",
                              revision=0, updated_at=ensure_utc(now))
        session.add(row)
        session.flush()
    return row


def routing_state(session: Session, model: str) -> RoutingState:
    row = session.get(RoutingStateRow, model)
    if row is None:
        return RoutingState(model=model)
    return RoutingState(
        model=model, champion=row.champion, fallback_version=row.fallback_version,
        canary=row.canary, canary_share=row.canary_share, shadow=row.shadow,
        kill_switch=KillSwitch(active=row.kill_active, fallback=row.kill_fallback,
                               reason=row.kill_reason, thrown_by=row.kill_by,
                               thrown_at=row.kill_at, expires_at=row.kill_expires_at),
        revision=row.revision,
    )


def decide(session: Session, model: str, key: str, now: datetime) -> RouteDecision:
    """What GET /v1/models/{model}/route answers."""
    return route(routing_state(session, model), key, now)


def _bump(session: Session, row: RoutingStateRow, now: datetime, *, actor: str,
          action: AuditAction, details: dict) -> None:
    row.revision += 1
    row.updated_at = ensure_utc(now)
    audit.append(session, actor=actor, action=action, subject=f"model:{row.model}",
                 details={**details, "revision": row.revision}, at=now)


def set_champion(session: Session, model: str, version: int, *, actor: str, now: datetime,
                 data_dir: Path, reason: str = "") -> RoutingState:
    """Serve `version` to all traffic; the previous champion becomes the fallback."""
    reg = registry(session, data_dir)
    reg.get(model, version)
    row = _row(session, model, now, lock=True)
    previous = row.champion
    if previous is not None and previous != version:
        row.fallback_version = previous
        reg.set_alias(model, "fallback", previous, actor=actor, now=now)
        reg.set_status(model, previous, "retired")
    row.champion, row.canary, row.canary_share = version, None, 0.0
    reg.set_alias(model, "champion", version, actor=actor, now=now)
    reg.set_status(model, version, "serving")
    _bump(session, row, now, actor=actor, action=AuditAction.PROMOTION,
          details={"champion": version, "previous": previous, "reason": reason})
    return routing_state(session, model)


def set_canary(session: Session, model: str, version: int | None, share: float, *, actor: str,
               now: datetime, data_dir: Path, shadow: bool = False) -> RoutingState:
    """Send `share` (0..1) of traffic to `version`; share 0 with shadow=True mirrors only."""
    if not 0.0 <= share <= 1.0:
        raise InputError(f"canary share {share} is outside [0, 1]", field="share")
    row = _row(session, model, now, lock=True)
    if version is not None:
        registry(session, data_dir).get(model, version)
        registry(session, data_dir).set_alias(model, "canary", version, actor=actor, now=now)
    row.canary = None if shadow else version
    row.canary_share = 0.0 if shadow or version is None else share
    row.shadow = version if shadow else None
    _bump(session, row, now, actor=actor, action=AuditAction.ROLLOUT,
          details={"canary": row.canary, "share": row.canary_share, "shadow": row.shadow})
    return routing_state(session, model)


def rollback(session: Session, model: str, *, actor: str, now: datetime,
             reason: str) -> RoutingState:
    """Take the canary and shadow out of traffic at once; the champion keeps serving."""
    row = _row(session, model, now, lock=True)
    removed = row.canary or row.shadow
    row.canary, row.canary_share, row.shadow = None, 0.0, None
    _bump(session, row, now, actor=actor, action=AuditAction.ROLLBACK,
          details={"removed": removed, "reason": reason})
    return routing_state(session, model)


def throw_kill_switch(
    session: Session,
    model: str,
    *,
    actor: str,
    actor_roles: Iterable[str],
    allowed_roles: Iterable[str],
    reason: str,
    fallback: str,
    now: datetime,
    expires_in: timedelta | None = None,
) -> RoutingState:
    """Route all traffic to the fallback.

    A refusal raises PermissionDenied before anything changes; the surface that called this
    audits the refusal in its own transaction (this one is rolled back)."""
    killswitch.check_allowed(actor, actor_roles, allowed_roles)
    why = killswitch.check_reason(reason)
    row = _row(session, model, now, lock=True)
    if row.kill_active and (row.kill_expires_at is None or row.kill_expires_at > now):
        raise ConflictError(f"the kill switch of {model} is already thrown (by {row.kill_by}: "
                            f"{row.kill_reason})")
    row.kill_active, row.kill_reason, row.kill_by = True, why, actor
    row.kill_fallback, row.kill_at = fallback, ensure_utc(now)
    row.kill_expires_at = killswitch.expiry(ensure_utc(now), expires_in)
    _bump(session, row, now, actor=actor, action=AuditAction.KILL_SWITCH,
          details={"reason": why, "fallback": fallback,
                   "expires_at": row.kill_expires_at.isoformat() if row.kill_expires_at
                   else None})
    return routing_state(session, model)


def restore(
    session: Session,
    model: str,
    *,
    actor: str,
    actor_roles: Iterable[str],
    allowed_roles: Iterable[str],
    reason: str,
    now: datetime,
) -> RoutingState:
    """Undo the kill switch: traffic goes back to champion and canary."""
    killswitch.check_allowed(actor, actor_roles, allowed_roles)
    why = killswitch.check_reason(reason)
    row = _row(session, model, now, lock=True)
    if not row.kill_active:
        raise ConflictError(f"the kill switch of {model} is not thrown")
    row.kill_active = False
    _bump(session, row, now, actor=actor, action=AuditAction.KILL_SWITCH_RESTORED,
          details={"reason": why, "was": row.kill_reason})
    return routing_state(session, model)
