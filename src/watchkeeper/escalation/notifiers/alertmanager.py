"""Prometheus Alertmanager API v2: POST /api/v2/alerts, so incidents show up (and route,
silence, inhibit) alongside the rest of a team's alerts.

Settings: `url` (Alertmanager's base URL); optional `bearer_token_env`, or `username` with
`password_env` for basic auth; `alertname` (default WatchkeeperIncident).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers.base import (
    ConfigError,
    Delivered,
    Notifier,
    idempotency_headers,
)

SEVERITY = {"T0": "info", "T1": "warning", "T2": "error", "T3": "critical"}


def alert(n: Notification, alertname: str, now: datetime | None = None) -> dict[str, Any]:
    m = n.message
    body: dict[str, Any] = {
        "labels": {"alertname": alertname, "model": n.model, "tier": n.tier,
                   "severity": SEVERITY.get(n.tier, "error"),
                   "incident": n.dedup_key or n.incident_id, "source": "watchkeeper",
                   **{k: v for k, v in n.labels.items() if k.isidentifier()}},
        "annotations": {"summary": m.subject, "description": m.summary,
                        "causes": "; ".join(m.causes), "dashboard": m.link},
        "generatorURL": m.link,
    }
    if n.opened_at:
        body["startsAt"] = n.opened_at
    if n.event == "resolve":
        body["endsAt"] = (now or datetime.now(UTC)).isoformat()
    return body


class AlertmanagerNotifier(Notifier):
    type = "alertmanager"
    secret_settings = ("bearer_token_env", "password_env")

    def _send(self, notification: Notification) -> Delivered:
        base = self.channel.settings.get("url")
        if not base:
            raise ConfigError(f"channel {self.channel.name!r}: needs 'url' (Alertmanager's "
                              "base URL, e.g. http://127.0.0.1:9093)")
        headers = idempotency_headers(notification)
        token = self.secrets.get("bearer_token_env", required=False)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        password = self.secrets.get("password_env", required=False)
        if password:
            user = str(self.channel.settings.get("username", ""))
            pair = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        name = str(self.channel.settings.get("alertname", "WatchkeeperIncident"))
        url = str(base).rstrip("/") + "/api/v2/alerts"
        return self.post_json(url, [alert(notification, name)], headers)
