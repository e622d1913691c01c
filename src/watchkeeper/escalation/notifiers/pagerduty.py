"""PagerDuty Events API v2: trigger, acknowledge and resolve one alert per incident.

Settings: `routing_key_env` (the integration key, secret); `api_url` (default the public
endpoint; tests point it at a loopback receiver). The `dedup_key` is the incident's, so
repeats of a trigger (retries, reminders, escalations) update one alert and acknowledge /
resolve find it; the per-notification idempotency key travels as a header as well.
"""

from __future__ import annotations

from typing import Any

from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers.base import Delivered, Notifier, idempotency_headers

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITY = {"T0": "info", "T1": "warning", "T2": "error", "T3": "critical"}
ACTIONS = {"acknowledge": "acknowledge", "resolve": "resolve"}  # everything else triggers


def pagerduty_event(n: Notification, routing_key: str) -> dict[str, Any]:
    action = ACTIONS.get(n.event, "trigger")
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action,
                             "dedup_key": n.dedup_key or n.incident_id}
    if action == "trigger":
        m = n.message
        event["payload"] = {
            "summary": m.subject[:1024],
            "source": n.model,
            "severity": SEVERITY.get(n.tier, "error"),
            "component": n.model,
            "group": n.tier,
            "class": m.causes[0][:200] if m.causes else "model health",
            "custom_details": {"summary": m.summary, "score": m.score, "tier": m.tier,
                               "confidence": m.confidence, "causes": list(m.causes),
                               "next_steps": list(m.next_steps), "event": n.event,
                               "incident_id": n.incident_id},
        }
        if n.opened_at:
            event["payload"]["timestamp"] = n.opened_at
        event["links"] = [{"href": m.link, "text": "watchkeeper incident"}]
        event["client"], event["client_url"] = "watchkeeper", m.link
    return event


class PagerDutyNotifier(Notifier):
    type = "pagerduty"
    secret_settings = ("routing_key_env",)

    def _send(self, notification: Notification) -> Delivered:
        key = str(self.secrets.get("routing_key_env"))
        settings = self.channel.settings
        url = str(settings.get("api_url") or settings.get("url") or DEFAULT_URL)
        return self.post_json(url, pagerduty_event(notification, key),
                              idempotency_headers(notification))
