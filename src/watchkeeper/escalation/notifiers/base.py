"""What every notifier shares: reading secrets from the environment, classifying failures as
worth retrying or not, and keeping secret values out of errors and logs.

A notifier's `send()` returns `Delivered` or raises `DeliveryError` with `retryable` set:
5xx, 408, timeouts and refused connections are retryable; 429 is retryable after its
Retry-After; other 4xx and configuration problems are not. Error messages never contain a
secret: every secret value read through `Secrets` is replaced by `***` in the message, and in
the records of the HTTP client's loggers, which would otherwise log Slack/Teams URLs.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from watchkeeper.escalation.config import ChannelConfig
from watchkeeper.escalation.notification import Notification

log = logging.getLogger("watchkeeper.escalation")
MASK = "***"
MAX_ERROR_BODY = 200


@dataclass(frozen=True, slots=True)
class Delivered:
    status_code: int | None = None
    detail: str = ""


class DeliveryError(Exception):
    """A failed delivery. `retryable` tells the outbox whether to try again."""

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after


class ConfigError(DeliveryError):
    """The channel is misconfigured (missing env variable, bad option): not retryable."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


# --- secrets -------------------------------------------------------------------------------

_known_secrets: set[str] = set()
_known_lock = threading.Lock()


def mask(text: str, secrets: set[str] | frozenset[str] | None = None) -> str:
    """Replace every known secret value in `text` with ***."""
    with _known_lock:
        values = set(_known_secrets) | set(secrets or ())
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


class _MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = _MaskSecrets()
for _name in ("httpx", "httpcore", "httpcore.http11", "httpcore.connection", "httpcore.http2",
              "httpcore.proxy", "watchkeeper.escalation"):
    logging.getLogger(_name).addFilter(_FILTER)


class Secrets:
    """Reads `*_env` settings from the environment and remembers the values for masking."""

    def __init__(self, channel: ChannelConfig, env: Mapping[str, str]) -> None:
        self.channel = channel
        self.env = env

    def get(self, setting: str, *, required: bool = True) -> str | None:
        var = self.channel.settings.get(setting)
        if var is None:
            if required:
                raise ConfigError(f"channel {self.channel.name!r}: setting {setting!r} is missing;"
                                  " expected the name of an environment variable")
            return None
        value = self.env.get(str(var))
        if not value:
            if required:
                # The variable's name is not secret and tells the operator what to set.
                raise ConfigError(f"channel {self.channel.name!r}: environment variable "
                                  f"{var} is not set ({setting})")
            return None
        remember(value)
        return value


def remember(value: str) -> None:
    """Mask `value` from now on. For a URL (Slack and Teams URLs are the secret) its path and
    its token-like segments are masked too, since servers echo paths without the host."""
    parts = {value}
    if "://" in value:
        parsed = urlsplit(value)
        parts.add(parsed.path + (f"?{parsed.query}" if parsed.query else ""))
        parts.add(parsed.query)
        parts |= {seg for seg in parsed.path.split("/")
                  if len(seg) >= 6 and any(ch.isdigit() for ch in seg)}
    with _known_lock:
        # Masking tiny values would mangle every message while hiding nothing.
        _known_secrets.update(p for p in parts if len(p) >= 4)


# --- notifiers -----------------------------------------------------------------------------


class Notifier:
    """Base class. Subclasses set `type` and implement `_send`; `send` guarantees that
    whatever goes wrong surfaces as a DeliveryError whose text holds no secret."""

    type: ClassVar[str]
    # Settings that name environment variables holding secrets (documentation and the shared
    # secrets test read this).
    secret_settings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, channel: ChannelConfig, env: Mapping[str, str],
                 http: httpx.Client | None = None, timeout: float = 10.0) -> None:
        self.channel = channel
        self.secrets = Secrets(channel, env)
        self.http = http
        self.timeout = timeout

    def send(self, notification: Notification) -> Delivered:
        error: DeliveryError
        try:
            return self._send(notification)
        except DeliveryError as exc:
            error = _masked(exc)
        except Exception as exc:  # anything unexpected: retry, but say what it was
            error = DeliveryError(mask(f"{self.type}: {type(exc).__name__}: {exc}"),
                                  retryable=True)
        # Raised outside the except blocks, so neither __cause__ nor __context__ links to the
        # original exceptions, whose text (URLs, echoed bodies) may hold secrets.
        raise error

    def _send(self, notification: Notification) -> Delivered:
        raise NotImplementedError

    # Helpers for HTTP-based channels.

    def _client(self) -> tuple[httpx.Client, bool]:
        if self.http is not None:
            return self.http, False
        return httpx.Client(timeout=self.timeout), True

    def post_json(self, url: str, body: Any, headers: Mapping[str, str] | None = None,
                  content: bytes | None = None) -> Delivered:
        client, owned = self._client()
        try:
            kwargs: dict[str, Any] = {"headers": dict(headers or {}), "timeout": self.timeout}
            if content is not None:
                kwargs["content"] = content
                kwargs["headers"].setdefault("Content-Type", "application/json")
            else:
                kwargs["json"] = body
            response = client.post(url, **kwargs)
        except httpx.TimeoutException:
            raise DeliveryError(f"{self.type}: timed out after {self.timeout:g}s",
                                retryable=True) from None
        except httpx.TransportError as exc:  # refused, reset, DNS: the receiver may come back
            raise DeliveryError(f"{self.type}: {type(exc).__name__}: {exc}",
                                retryable=True) from None
        except httpx.InvalidURL as exc:
            raise ConfigError(f"{self.type}: invalid URL: {exc}") from None
        finally:
            if owned:
                client.close()
        return check_response(self.type, response)


def check_response(kind: str, response: httpx.Response) -> Delivered:
    code = response.status_code
    if 200 <= code < 300:
        return Delivered(code)
    body = response.text[:MAX_ERROR_BODY].replace("\n", " ")
    message = f"{kind}: HTTP {code} {response.reason_phrase}: {body}".rstrip(": ")
    if code == 429:
        raise DeliveryError(message, retryable=True, status_code=code,
                            retry_after=retry_after(response.headers.get("Retry-After")))
    retryable = code >= 500 or code == 408
    raise DeliveryError(message, retryable=retryable, status_code=code,
                        retry_after=retry_after(response.headers.get("Retry-After"))
                        if code == 503 else None)


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (either delta-seconds or an HTTP date)."""
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError, IndexError):
        from datetime import UTC, datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    return None


def _masked(exc: DeliveryError) -> DeliveryError:
    clean = DeliveryError(mask(str(exc)), retryable=exc.retryable,
                          status_code=exc.status_code, retry_after=exc.retry_after)
    clean.__class__ = type(exc)  # keep ConfigError as ConfigError; same instance layout
    return clean


def idempotency_headers(notification: Notification) -> dict[str, str]:
    return {"Idempotency-Key": notification.idempotency_key}
