"""One module per channel and the explicit catalogue of them.

To add a channel: write `notifiers/<type>.py` with a `Notifier` subclass, add it below, and
it joins the shared conformance and secrets tests (see CONTRIBUTING.md, "Add a notification
channel").
"""

from __future__ import annotations

from watchkeeper.escalation.notifiers.alertmanager import AlertmanagerNotifier
from watchkeeper.escalation.notifiers.base import (
    ConfigError,
    Delivered,
    DeliveryError,
    Notifier,
)
from watchkeeper.escalation.notifiers.console import ConsoleNotifier
from watchkeeper.escalation.notifiers.email import EmailNotifier
from watchkeeper.escalation.notifiers.pagerduty import PagerDutyNotifier
from watchkeeper.escalation.notifiers.slack import SlackNotifier
from watchkeeper.escalation.notifiers.teams import TeamsNotifier
from watchkeeper.escalation.notifiers.webhook import WebhookNotifier

NOTIFIERS: dict[str, type[Notifier]] = {
    "webhook": WebhookNotifier,
    "slack": SlackNotifier,
    "teams": TeamsNotifier,
    "email": EmailNotifier,
    "pagerduty": PagerDutyNotifier,
    "alertmanager": AlertmanagerNotifier,
    "console": ConsoleNotifier,
}

__all__ = ["NOTIFIERS", "ConfigError", "Delivered", "DeliveryError", "Notifier"]
