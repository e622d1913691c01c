"""Slack incoming webhook with Block Kit blocks. Settings: `url_env` (the URL is the secret)."""

from __future__ import annotations

from typing import Any

from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers.base import Delivered, Notifier, idempotency_headers

# Block Kit limits: header text 150 chars, section text 3000.
HEADER_MAX, SECTION_MAX = 150, 3000


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(n: Notification) -> dict[str, Any]:
    m = n.message
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in m.facts.items()]
    causes = "\n".join(f"{i}. {c}" for i, c in enumerate(m.causes, 1)) or "Under investigation"
    steps = "\n".join(
        f"• {s['text']}" + (f" (by {s['due'][:16].replace('T', ' ')} UTC)" if s.get("due") else "")
        for s in m.next_steps) or "• Investigation under way"
    return {
        "text": _cut(m.subject, SECTION_MAX),  # notification fallback
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(m.subject, HEADER_MAX)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(m.summary, SECTION_MAX)}},
            {"type": "section", "fields": fields},
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": _cut(f"*Top causes*\n{causes}", SECTION_MAX)}},
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": _cut(f"*Next steps*\n{steps}", SECTION_MAX)}},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Open incident"},
                 "url": m.link}]},
        ],
    }


class SlackNotifier(Notifier):
    type = "slack"
    secret_settings = ("url_env",)

    def _send(self, notification: Notification) -> Delivered:
        url = str(self.secrets.get("url_env"))
        return self.post_json(url, slack_payload(notification), idempotency_headers(notification))
