"""The dashboard's sign-in: a signed cookie holding the API token, plus a CSRF token per
session (double-submit: forms carry it, and it must match the cookie's)."""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_AGE_S = 12 * 3600


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="watchkeeper-session")


def make_session(token: str, secret: str) -> str:
    return _serializer(secret).dumps({"t": token})


def read_session(cookie: str, secret: str) -> str | None:
    try:
        data = _serializer(secret).loads(cookie, max_age=MAX_AGE_S)
    except BadSignature:
        return None
    return data.get("t") if isinstance(data, dict) else None


def csrf_token(cookie: str, secret: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


def csrf_ok(cookie: str | None, submitted: str | None, secret: str) -> bool:
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(csrf_token(cookie, secret), submitted)
