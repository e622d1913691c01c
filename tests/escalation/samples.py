"""Sample incident and notification shared by the escalation tests."""

from __future__ import annotations

from datetime import UTC, datetime

from watchkeeper.core.enums import Tier
from watchkeeper.escalation.config import ChannelConfig
from watchkeeper.escalation.incident import IncidentView, NextStep
from watchkeeper.escalation.messages import render_message
from watchkeeper.escalation.notification import Notification

SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-pass-8c1f0e"


def sample_incident(**changes: object) -> IncidentView:
    base: dict[str, object] = dict(
        id="inc_01", model="credit-risk", tier=Tier.T2,
        opened_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC), score=71.5,
        title="Income distribution drift",
        summary="Feature income drifted (PSI 0.41); first seen in a row from jane@example.com.",
        causes=("data drift on income (psi 0.41)", "prediction drift (js 0.12)"),
        confidence=0.82,
        next_steps=(NextStep("Retrain on the last 30 days", datetime(2026, 3, 3, tzinfo=UTC),
                             "alice"),),
        details={"samples": [{"email": "jane@example.com", "income": 51000}]},
    )
    base.update(changes)
    return IncidentView(**base)  # type: ignore[arg-type]


def sample_notification(event: str = "trigger", key: str = "inc_01:T2:trigger:ops",
                        audience: str = "oncall") -> Notification:
    inc = sample_incident()
    msg = render_message(inc, audience, event=event, pii_fields=["email"],
                         people={"responsible": ["carol"], "accountable": ["alice"]})
    return Notification(idempotency_key=key, event=event, incident_id=inc.id, model=inc.model,
                        tier=str(inc.tier), message=msg, dedup_key=f"watchkeeper-{inc.id}",
                        recipients=({"person": "carol", "raci": "responsible", "name": "Carol",
                                     "email": "carol@example.com"},),
                        opened_at=inc.opened_at.isoformat())


def http_channel(kind: str, url: str) -> tuple[ChannelConfig, dict[str, str]]:
    """A channel of `kind` pointing at `url`, and the environment holding its secrets."""
    if kind == "webhook":
        return (ChannelConfig("hook", "webhook", settings={"url": url + "/hook",
                                                           "secret_env": "HOOK_SECRET"}),
                {"HOOK_SECRET": "hmac-secret-5d2a"})
    if kind == "slack":
        return (ChannelConfig("ops", "slack", settings={"url_env": "SLACK_URL"}),
                {"SLACK_URL": url + "/services/T0/B0/slack-token-77aa"})
    if kind == "teams":
        return (ChannelConfig("teams", "teams", settings={"url_env": "TEAMS_URL"}),
                {"TEAMS_URL": url + "/webhookb2/teams-token-31bd"})
    if kind == "pagerduty":
        return (ChannelConfig("pager", "pagerduty", settings={"routing_key_env": "PD_KEY",
                                                              "url": url + "/v2/enqueue"}),
                {"PD_KEY": "pd-routing-key-9f3e"})
    if kind == "alertmanager":
        return (ChannelConfig("am", "alertmanager", settings={"url": url,
                                                              "bearer_token_env": "AM_TOKEN"}),
                {"AM_TOKEN": "am-bearer-4c4c"})
    raise AssertionError(kind)
