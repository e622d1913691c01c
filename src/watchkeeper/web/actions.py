"""Dashboard forms: sign-in and every change a person makes. Each posts with the CSRF token,
is authorised with the API's `allow(...)` (refusals audited), calls the stage service that
audits the change, and redirects back with the outcome (post/redirect/get)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from watchkeeper.api.deps import allow, allow_incident, guarded
from watchkeeper.api.sessions import MAX_AGE_S, make_session
from watchkeeper.core.enums import IncidentState
from watchkeeper.core.errors import InputError, NotFoundError
from watchkeeper.engine import access
from watchkeeper.engine.access import Permission
from watchkeeper.escalation import approve_message
from watchkeeper.escalation.service import escalate_now, list_messages
from watchkeeper.incidents import service as incidents
from watchkeeper.mitigation import service as mitigation
from watchkeeper.mitigation.authority import roles_held
from watchkeeper.policy import parse_duration
from watchkeeper.web.ui import (
    USER_ERRORS,
    app_state,
    checked_form,
    redirect,
    render,
    require_viewer,
    safe_next,
    set_session_cookie,
    viewer,
)

router = APIRouter(include_in_schema=False)
VERBS = {"acknowledge": IncidentState.ACKNOWLEDGED, "mitigate": IncidentState.MITIGATING,
         "resolve": IncidentState.RESOLVED, "reopen": IncidentState.OPEN,
         "dismiss": IncidentState.DISMISSED, "close": IncidentState.POSTMORTEM_DONE}
DONE = {"acknowledge": "Acknowledged.", "mitigate": "Marked as mitigating.",
        "resolve": "Resolved.", "reopen": "Reopened.", "dismiss": "Dismissed.",
        "close": "Post-mortem done; incident closed."}


def _text(form: Any, name: str, limit: int = 5000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


# --- sign-in -----------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if viewer(request) is not None and app_state(request).auth_enabled:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"title": "Sign in", "next": safe_next(next),
                                          "error": ""})


@router.post("/login")
async def login(request: Request) -> Response:
    st = app_state(request)
    form = await checked_form(request)
    token, target = _text(form, "token", 500), safe_next(_text(form, "next", 2000))
    with st.store.session() as s:
        who = access.authenticate(s, token, st.clock.now()) if token else None
        if who is None:
            access.record_denial(s, actor="anonymous", attempt="dashboard.sign_in",
                                 subject="service", reason="unknown, revoked or expired token",
                                 now=st.clock.now())
    if who is None:
        return render(request, "login.html", {
            "title": "Sign in", "next": target,
            "error": "That token was not accepted: it is unknown, revoked or expired."},
            status=401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, st, make_session(token, st.session_secret), MAX_AGE_S)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie("wk_session", path="/")
    return response


# --- incidents ---------------------------------------------------------------------------------


def _act(request: Request, back: str, done: str, fn: Callable[[], Any]) -> Response:
    try:
        fn()
    except USER_ERRORS as exc:
        return redirect(back, error=str(exc))
    return redirect(back, ok=done)


@router.post("/incidents/{incident_id}/state")
async def move(request: Request, incident_id: str) -> Response:
    who = require_viewer(request)
    st = app_state(request)
    form = await checked_form(request)
    verb = _text(form, "verb", 40)
    back = f"/incidents/{incident_id}"

    def run() -> None:
        if verb not in VERBS:
            raise InputError(f"unknown action {verb!r}", field="verb", expected=", ".join(VERBS))
        allow_incident(st, who, Permission.RESPOND, incident_id, f"incident.{verb}")
        with st.store.session() as s:
            incidents.transition(s, incident_id, VERBS[verb], actor=who.name, now=st.clock.now(),
                                 rationale=_text(form, "rationale"),
                                 reason=_text(form, "reason", 40) or None)

    return _act(request, back, DONE.get(verb, "Done."), run)


@router.post("/incidents/{incident_id}/comment")
async def comment(request: Request, incident_id: str) -> Response:
    who = require_viewer(request)
    st = app_state(request)
    form = await checked_form(request)

    def run() -> None:
        allow_incident(st, who, Permission.RESPOND, incident_id, "incident.comment")
        with st.store.session() as s:
            incidents.comment(s, incident_id, actor=who.name, text=_text(form, "text", 10_000),
                              now=st.clock.now())

    return _act(request, f"/incidents/{incident_id}", "Comment added.", run)


@router.post("/incidents/{incident_id}/escalate")
async def escalate(request: Request, incident_id: str) -> Response:
    """Move the incident up one tier now; the next escalation tick pages that tier."""
    who = require_viewer(request)
    st = app_state(request)
    form = await checked_form(request)

    def run() -> None:
        allow_incident(st, who, Permission.RESPOND, incident_id, "incident.escalate")
        with st.store.session() as s:
            escalate_now(s, incident_id, actor=who.name, now=st.clock.now(),
                         rationale=_text(form, "rationale"))

    return _act(request, f"/incidents/{incident_id}",
                "Escalated one tier; its people are paged on the next tick.", run)


@router.post("/incidents/{incident_id}/silence")
async def silence(request: Request, incident_id: str) -> Response:
    """Silence incidents like this one: matchers are its labels (model and kind)."""
    who = require_viewer(request)
    st = app_state(request)
    form = await checked_form(request)

    def run() -> None:
        try:
            duration = parse_duration(_text(form, "duration", 20) or "4h")
        except ValueError as exc:
            raise InputError(str(exc), field="duration", expected="e.g. 30m, 4h, 2d") from None
        reason = _text(form, "reason", 2000)
        if not reason:
            raise InputError("a silence needs a reason", field="reason")
        allow(st, who, Permission.RESPOND, None, "silence.create")
        now = st.clock.now()
        with st.store.session() as s:
            row = incidents.get(s, incident_id)
            matchers = [f"{k}={v}" for k, v in sorted(row.labels.items())]
            incidents.create_silence(s, matchers=matchers, created_by=who.name, reason=reason,
                                     now=now, ends_at=now + duration)

    return _act(request, f"/incidents/{incident_id}", "Similar incidents are silenced.", run)


@router.post("/incidents/{incident_id}/messages/{message_id}/approve")
async def approve(request: Request, incident_id: str, message_id: str) -> Response:
    who = require_viewer(request)
    st = app_state(request)
    await checked_form(request)
    def run() -> None:
        model = allow_incident(st, who, Permission.APPROVE, incident_id, "message.approve")
        with st.store.session(read_only=True) as s:
            if not any(m["id"] == message_id for m in list_messages(s, incident_id)):
                raise NotFoundError(f"incident {incident_id} has no message {message_id!r}")
        roles = {who.role.value} | (roles_held(st.policy, who.name, model) if st.policy
                                    else set())
        guarded(st, who.name, model, "message.approve", lambda s: approve_message(
            s, message_id, who.name, roles, now=st.clock.now()))

    return _act(request, f"/incidents/{incident_id}", "Message approved and queued.", run)


@router.post("/incidents/{incident_id}/rollouts/{rollout_id}/sign-off")
async def sign_off(request: Request, incident_id: str, rollout_id: str) -> Response:
    who = require_viewer(request)
    st = app_state(request)
    await checked_form(request)
    def run() -> None:
        model = allow_incident(st, who, Permission.APPROVE, incident_id, "sign_off")
        if st.policy is None:
            raise NotFoundError("no policy is loaded; sign-off needs the policy's roles")
        guarded(st, who.name, model, "sign_off", lambda s: mitigation.sign_off(
            s, st.policy, rollout_id, approver=who.name, now=st.clock.now()))

    return _act(request, f"/incidents/{incident_id}", f"Rollout {rollout_id} signed off.", run)


# --- post-mortem -------------------------------------------------------------------------------


@router.post("/incidents/{incident_id}/postmortem")
async def edit_postmortem(request: Request, incident_id: str) -> Response:
    who = require_viewer(request)
    st = app_state(request)
    form = await checked_form(request)

    def run() -> None:
        from watchkeeper.incidents.postmortem import SECTIONS

        fields = {k: _text(form, k, 20_000) for k in SECTIONS if k in form}
        allow_incident(st, who, Permission.RESPOND, incident_id, "postmortem.edit")
        with st.store.session() as s:
            incidents.edit_postmortem(s, incident_id, actor=who.name, now=st.clock.now(),
                                      fields=fields)

    return _act(request, f"/incidents/{incident_id}#postmortem", "Post-mortem saved.", run)


@router.post("/incidents/{incident_id}/postmortem/items")
async def add_item(request: Request, incident_id: str) -> Response:
    who = require_viewer(request)
    st = app_state(request)
    form = await checked_form(request)

    def run() -> None:
        due_text = _text(form, "due", 40)
        try:
            due = datetime.fromisoformat(due_text).replace(tzinfo=UTC) if due_text else \
                st.clock.now() + timedelta(days=14)
        except ValueError:
            raise InputError(f"not a date: {due_text!r}", field="due",
                             expected="YYYY-MM-DD") from None
        allow_incident(st, who, Permission.RESPOND, incident_id, "postmortem.action_item")
        with st.store.session() as s:
            incidents.add_action_item(s, incident_id, text=_text(form, "text", 2000),
                                      owner=_text(form, "owner", 200), due_at=due,
                                      actor=who.name, now=st.clock.now())

    return _act(request, f"/incidents/{incident_id}#postmortem", "Action item added.", run)


@router.post("/incidents/{incident_id}/postmortem/items/{item_id}/done")
async def item_done(request: Request, incident_id: str, item_id: int) -> Response:
    who = require_viewer(request)
    st = app_state(request)
    await checked_form(request)

    def run() -> None:
        allow_incident(st, who, Permission.RESPOND, incident_id, "postmortem.action_item")
        with st.store.session() as s:
            if not any(i.id == item_id for i in incidents.action_items(s, incident_id)):
                raise NotFoundError(f"incident {incident_id} has no action item {item_id}")
            incidents.complete_action_item(s, item_id, actor=who.name, now=st.clock.now())

    return _act(request, f"/incidents/{incident_id}#postmortem", "Action item done.", run)


# --- kill switch -------------------------------------------------------------------------------


@router.post("/models/{model}/kill-switch")
async def kill_switch(request: Request, model: str) -> Response:
    who = require_viewer(request)
    st = app_state(request)
    form = await checked_form(request)
    back = safe_next(_text(form, "back", 2000) or f"/models/{model}")
    action = _text(form, "action", 20)

    def run() -> None:
        if action not in ("throw", "restore"):
            raise InputError(f"unknown action {action!r}", field="action",
                             expected="throw or restore")
        attempt = "kill_switch" if action == "throw" else "kill_switch_restore"
        allow(st, who, Permission.OPERATE, model, attempt)
        if st.policy is None:
            raise NotFoundError("no policy is loaded; the kill switch needs the policy's roles")
        mp = st.policy.model(model)
        held = roles_held(st.policy, who.name, model)
        allowed = list(st.policy.mitigation.kill_switch_roles)
        reason = _text(form, "reason", 2000)
        if action == "throw":
            expires_text = _text(form, "expires_in", 20)
            try:
                expires = parse_duration(expires_text) if expires_text else None
            except ValueError as exc:
                raise InputError(str(exc), field="expires_in", expected="e.g. 30m, 2h") from None
            guarded(st, who.name, model, attempt, lambda s: mitigation.throw_kill_switch(
                s, model, actor=who.name, actor_roles=held, allowed_roles=allowed,
                reason=reason, fallback=mp.fallback, now=st.clock.now(), expires_in=expires))
        else:
            guarded(st, who.name, model, attempt, lambda s: mitigation.restore(
                s, model, actor=who.name, actor_roles=held, allowed_roles=allowed,
                reason=reason, now=st.clock.now()))

    done = "Kill switch thrown: traffic goes to the fallback." if action == "throw" else \
        "Kill switch restored: traffic goes back to the champion."
    return _act(request, back, done, run)
