"""Shared dependencies: the app's state, a transactional session, and the caller's identity."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from watchkeeper.core.clock import SYSTEM_CLOCK, Clock
from watchkeeper.core.errors import NotFoundError, PermissionDenied
from watchkeeper.engine import access
from watchkeeper.engine.access import Permission, Principal
from watchkeeper.policy import Policy
from watchkeeper.store import Store

SESSION_COOKIE = "wk_session"
T = TypeVar("T")


@dataclass
class AppState:
    store: Store
    data_dir: Path
    policy: Policy | None = None
    clock: Clock = field(default=SYSTEM_CLOCK)
    auth_enabled: bool = True
    base_url: str = "http://127.0.0.1:8000"
    session_secret: str = ""


def state(request: Request) -> AppState:
    return request.app.state.wk


StateDep = Annotated[AppState, Depends(state)]


def session(st: StateDep) -> Iterator[Session]:
    with st.store.session() as s:
        yield s


# "function": the transaction commits before the response is sent, so a commit that fails (a
# refused value, a serialisation failure) is the answer, not a success already on the wire.
SessionDep = Annotated[Session, Depends(session, scope="function")]


def principal(request: Request, st: StateDep) -> Principal:
    """Bearer token, else the dashboard's signed session cookie; 401 when neither is valid."""
    if not st.auth_enabled:
        return access.ANONYMOUS_ADMIN
    secret = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        secret = header[7:].strip()
    elif (cookie := request.cookies.get(SESSION_COOKIE)) and st.session_secret:
        from watchkeeper.api.sessions import read_session

        secret = read_session(cookie, st.session_secret)
    if secret:
        now = st.clock.now()
        with st.store.session(read_only=True) as s:  # no write lock for the common case
            who, stale = access.identify(s, secret, now)
        if who is not None and stale:
            with st.store.session() as s:
                access.touch(s, who, now)
        if who is not None:
            request.state.principal = who
            return who
    raise HTTPException(401, "a valid API token is required (Authorization: Bearer wk_...)",
                        headers={"WWW-Authenticate": "Bearer"})


PrincipalDep = Annotated[Principal, Depends(principal)]


def audit_refusal(st: AppState, actor: str, model: str | None, attempt: str,
                  exc: PermissionDenied) -> None:
    """Audit a refusal in its own transaction (the refused one is rolled back)."""
    with st.store.session() as s:
        access.record_denial(s, actor=actor, attempt=attempt,
                             subject=f"model:{model}" if model else "service",
                             reason=str(exc), now=st.clock.now())


def allow(st: AppState, who: Principal, permission: Permission, model: str | None,
          attempt: str) -> None:
    """Authorise, auditing a refusal before raising 403."""
    try:
        access.authorize(who, permission, model)
    except PermissionDenied as exc:
        audit_refusal(st, who.name, model, attempt, exc)
        raise


def guarded(st: AppState, actor: str, model: str | None, attempt: str,
            change: Callable[[Session], T]) -> T:
    """Run a change that a stage guards with the policy's own roles (kill switch, sign-off,
    message approval) in its own transaction; a refusal is audited, then raised."""
    try:
        with st.store.session() as s:
            return change(s)
    except PermissionDenied as exc:
        audit_refusal(st, actor, model, attempt, exc)
        raise


def allow_incident(st: AppState, who: Principal, permission: Permission, incident_id: str,
                   attempt: str) -> str:
    """Authorise an action on an incident before the request's own transaction does anything:
    on SQLite a refusal is audited in a second write transaction, which must not wait behind
    ours. Returns the incident's model."""
    from watchkeeper.incidents import service as incidents

    with st.store.session(read_only=True) as s:
        model = incidents.get(s, incident_id).model
    allow(st, who, permission, model, attempt)
    return model


def policy_of(st: AppState) -> Policy:
    if st.policy is None:
        raise NotFoundError("no policy is loaded; start the service with --policy FILE")
    return st.policy
