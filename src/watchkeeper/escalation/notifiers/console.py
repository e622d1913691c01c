"""Console/log channel: the on-call text as one log record. Useful on a laptop and in demos."""

from __future__ import annotations

import logging

from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers.base import Delivered, Notifier

log = logging.getLogger("watchkeeper.escalation.console")


class ConsoleNotifier(Notifier):
    type = "console"

    def _send(self, notification: Notification) -> Delivered:
        level = logging.getLevelName(str(self.channel.settings.get("level", "WARNING")).upper())
        log.log(level if isinstance(level, int) else logging.WARNING,
                "%s [%s] %s", notification.message.subject, notification.idempotency_key,
                notification.message.text)
        return Delivered(None, "logged")
