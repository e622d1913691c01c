"""Console channel: the on-call text as one log record and, when `stream` is set (stdout or
stderr, as the policy's console channel says), printed there too. For laptops and demos."""

from __future__ import annotations

import logging
import sys

from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers.base import ConfigError, Delivered, Notifier

log = logging.getLogger("watchkeeper.escalation.console")


class ConsoleNotifier(Notifier):
    type = "console"

    def _send(self, notification: Notification) -> Delivered:
        level = logging.getLevelName(str(self.channel.settings.get("level", "WARNING")).upper())
        log.log(level if isinstance(level, int) else logging.WARNING,
                "%s [%s] %s", notification.message.subject, notification.idempotency_key,
                notification.message.text)
        stream = self.channel.settings.get("stream")
        if stream not in (None, "none"):
            if stream not in ("stdout", "stderr"):
                raise ConfigError(f"channel {self.channel.name!r}: unknown stream {stream!r}; "
                                  "expected stdout, stderr or none")
            out = sys.stdout if stream == "stdout" else sys.stderr
            print(f"{notification.message.subject}\n{notification.message.text}", file=out,
                  flush=True)
        return Delivered(None, "logged")
