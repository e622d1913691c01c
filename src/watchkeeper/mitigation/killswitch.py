"""Who may throw the kill switch, and the checks before it moves. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from watchkeeper.core.errors import InputError, PermissionDenied


def check_allowed(actor: str, actor_roles: Iterable[str], allowed_roles: Iterable[str]) -> None:
    """Refuse unless the actor holds one of the policy's kill-switch roles (names them)."""
    allowed = sorted(set(allowed_roles))
    if not set(actor_roles) & set(allowed):
        raise PermissionDenied(
            f"{actor} may not operate the kill switch; it needs one of the roles: "
            f"{', '.join(allowed) or '(none configured: set mitigation.kill_switch_roles)'}"
        )


def check_reason(reason: str) -> str:
    if len(reason.strip()) < 3:
        raise InputError("the kill switch needs a reason", field="reason",
                         expected="a sentence saying why, recorded in the audit trail")
    return reason.strip()[:2000]


def expiry(now: datetime, expires_in: timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    if expires_in <= timedelta(0):
        raise InputError("auto-expiry must be in the future", field="expires_in",
                         expected="a positive duration, e.g. 2h")
    return now + expires_in
