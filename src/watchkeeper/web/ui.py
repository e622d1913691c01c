"""What every dashboard page shares: who is looking, the CSRF token, flash messages, rendering
with the security headers, and errors as pages."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from watchkeeper.api.deps import SESSION_COOKIE, AppState, principal
from watchkeeper.api.sessions import csrf_ok, csrf_token
from watchkeeper.core.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
    PolicyError,
)
from watchkeeper.engine.access import Principal
from watchkeeper.web.queries import changes as change_marks

CSRF_COOKIE = "wk_csrf"  # basis of the CSRF token before sign-in (and when auth is off)
FLASH_COOKIE = "wk_flash"
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
# Everything is served from here; inline <script> is never used (figures travel as JSON data).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
USER_ERRORS = (PermissionDenied, ConflictError, InputError, NotFoundError, PolicyError)


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def app_state(request: Request) -> AppState:
    return request.app.state.wk


def viewer(request: Request) -> Principal | None:
    """The signed-in person (Bearer token or session cookie), None when nobody is."""
    try:
        return principal(request, app_state(request))
    except HTTPException:
        return None


def require_viewer(request: Request) -> Principal:
    who = viewer(request)
    if who is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # a form posted after the session expired: back to
            target = "/"             # a page, not to an address that only takes posts
        raise SignInRequired(target)
    return who


def _basis(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)


async def checked_form(request: Request) -> FormData:
    """The posted form, after the double-submit CSRF check (403 page when it fails)."""
    form = await request.form()
    submitted = form.get("csrf")
    if not csrf_ok(_basis(request), submitted if isinstance(submitted, str) else None,
                   app_state(request).session_secret):
        raise PageError(403, "This form did not come from a page of this dashboard, or the page "
                             "is from an earlier sign-in (CSRF check failed). Reload the page "
                             "and try again.")
    return form


def render(request: Request, template: str, context: dict[str, Any], *,
           who: Principal | None = None, status: int = 200) -> HTMLResponse:
    st = app_state(request)
    basis = _basis(request)
    fresh = None
    if basis is None:
        basis = fresh = secrets.token_urlsafe(24)
    flash = _read_flash(request)
    changes = None
    if who is not None:  # what this render saw, so the page's first poll catches later moves
        with st.store.session(read_only=True) as s:
            changes = change_marks(s)
    response = templates.TemplateResponse(request, template, {
        **context, "who": who, "changes": changes, "flash": flash,
        "csrf": csrf_token(basis, st.session_secret),
        "auth_enabled": st.auth_enabled, "path": request.url.path,
    }, status_code=status)
    if fresh is not None:
        response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="lax",
                            secure=_secure(st))
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE)
    secure_headers(response)
    return response


def secure_headers(response: Response) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def _secure(st: AppState) -> bool:
    return st.base_url.startswith("https://")


def set_session_cookie(response: Response, st: AppState, value: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=_secure(st), path="/")


def redirect(url: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    """303 after a form post; the outcome travels in a one-shot cookie to the next page."""
    response = RedirectResponse(safe_next(url), status_code=303)
    if ok or error:
        payload = json.dumps({"kind": "error" if error else "ok", "text": (error or ok)[:2000]})
        response.set_cookie(FLASH_COOKIE, quote(payload), max_age=60, httponly=True,
                            samesite="lax")
    return response


def _read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(unquote(raw))
        return {"kind": str(data["kind"]), "text": str(data["text"])}
    except (ValueError, KeyError, TypeError):
        return None


def safe_next(url: str | None) -> str:
    """Only local paths: an open redirect after sign-in would hand the session to anyone."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


@contextmanager
def page_errors() -> Iterator[None]:
    """Domain errors while building a page become an error page with the same status."""
    try:
        yield
    except NotFoundError as exc:
        raise PageError(404, str(exc)) from None
    except PermissionDenied as exc:
        raise PageError(403, str(exc)) from None


def fmt_time(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M UTC")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 90:
        return f"{s} s"
    if s < 5400:
        return f"{s // 60} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def as_json(value: Any) -> str:
    """JSON for people to read; autoescaping makes it safe in HTML (unlike `tojson`, which is
    for script contexts and turns every quote into \\u0027)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


templates.env.filters["when"] = fmt_time
templates.env.filters["as_json"] = as_json
templates.env.filters["duration"] = fmt_duration
