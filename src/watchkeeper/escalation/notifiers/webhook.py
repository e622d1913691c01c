"""Generic webhook: the notification as JSON, signed with HMAC-SHA256 over the exact body.

Settings: `url` or `url_env`; `secret_env` (optional) names the variable holding the signing
key; `signature_header` (default X-Watchkeeper-Signature, value `sha256=<hex>`).
Receivers verify by recomputing the HMAC over the raw body and comparing in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers.base import (
    ConfigError,
    Delivered,
    Notifier,
    idempotency_headers,
)

SIGNATURE_HEADER = "X-Watchkeeper-Signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    return hmac.compare_digest(sign(body, secret), signature)


def resolve_url(notifier: Notifier) -> str:
    settings = notifier.channel.settings
    if "url_env" in settings:
        return str(notifier.secrets.get("url_env"))
    if "url" in settings:
        return str(settings["url"])
    raise ConfigError(f"channel {notifier.channel.name!r}: needs 'url' or 'url_env'")


class WebhookNotifier(Notifier):
    type = "webhook"
    secret_settings = ("url_env", "secret_env")

    def _send(self, notification: Notification) -> Delivered:
        url = resolve_url(self)
        body = json.dumps({"version": 1, **notification.to_dict()}, sort_keys=True,
                          separators=(",", ":")).encode()
        headers = {**idempotency_headers(notification), "X-Watchkeeper-Event": notification.event}
        secret = self.secrets.get("secret_env", required=False)
        if secret:
            header = str(self.channel.settings.get("signature_header", SIGNATURE_HEADER))
            headers[header] = sign(body, secret)
        return self.post_json(url, None, headers, content=body)
