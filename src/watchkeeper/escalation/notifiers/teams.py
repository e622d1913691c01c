"""Microsoft Teams incoming webhook. Settings: `url_env`; `format`: messagecard (default, the
connector format) or adaptive (an Adaptive Card in a message, as Workflows webhooks expect)."""

from __future__ import annotations

from typing import Any

from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers.base import (
    ConfigError,
    Delivered,
    Notifier,
    idempotency_headers,
)

TIER_COLOURS = {"T0": "2EB886", "T1": "F2C744", "T2": "E8912D", "T3": "D00000"}


def message_card(n: Notification) -> dict[str, Any]:
    m = n.message
    return {
        "@type": "MessageCard",
        "@context": "http://schema.org/extensions",
        "summary": m.subject,
        "themeColor": TIER_COLOURS.get(n.tier, "808080"),
        "title": m.subject,
        "sections": [
            {"activityTitle": m.summary,
             "facts": [{"name": k, "value": v} for k, v in m.facts.items()]},
            {"title": "Top causes", "text": "<br>".join(m.causes) or "Under investigation"},
            {"title": "Next steps",
             "text": "<br>".join(s["text"] + (f" (by {s['due']})" if s.get("due") else "")
                                 for s in m.next_steps) or "Investigation under way"},
        ],
        "potentialAction": [{"@type": "OpenUri", "name": "Open incident",
                             "targets": [{"os": "default", "uri": m.link}]}],
    }


def adaptive_card(n: Notification) -> dict[str, Any]:
    m = n.message
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": m.subject, "weight": "Bolder", "size": "Medium",
         "wrap": True},
        {"type": "TextBlock", "text": m.summary, "wrap": True},
        {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in m.facts.items()]},
        {"type": "TextBlock", "text": "Top causes", "weight": "Bolder"},
        *({"type": "TextBlock", "text": f"{i}. {c}", "wrap": True}
          for i, c in enumerate(m.causes, 1)),
        {"type": "TextBlock", "text": "Next steps", "weight": "Bolder"},
        *({"type": "TextBlock", "wrap": True,
           "text": s["text"] + (f" (by {s['due']})" if s.get("due") else "")}
          for s in m.next_steps),
    ]
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard", "version": "1.4", "body": body,
                    "actions": [{"type": "Action.OpenUrl", "title": "Open incident",
                                 "url": m.link}]},
    }]}


class TeamsNotifier(Notifier):
    type = "teams"
    secret_settings = ("url_env",)

    def _send(self, notification: Notification) -> Delivered:
        url = str(self.secrets.get("url_env"))
        fmt = str(self.channel.settings.get("format", "messagecard"))
        if fmt not in ("messagecard", "adaptive"):
            raise ConfigError(f"channel {self.channel.name!r}: unknown format {fmt!r}; "
                              "expected messagecard or adaptive")
        payload = message_card(notification) if fmt == "messagecard" else adaptive_card(
            notification)
        return self.post_json(url, payload, idempotency_headers(notification))
