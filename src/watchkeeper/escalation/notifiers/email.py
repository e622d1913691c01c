"""Email over SMTP (smtplib): STARTTLS and login, multipart text + HTML.

Settings: `host`, `port` (587), `starttls` (true), `ssl` (false: implicit TLS, port 465),
`ca_file` (trust a private CA), `username_env` (or a plain `username`), `password_env`,
`sender` (or `from`), `to` (fixed addresses). The routed people's addresses are added; with
`to_raci` (e.g. [responsible, accountable]) only those RACI roles' people are.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers.base import (
    ConfigError,
    Delivered,
    DeliveryError,
    Notifier,
)


def build_email(n: Notification, sender: str, recipients: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = n.message.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(usegmt=True)
    # A Message-ID derived from the idempotency key lets mail systems drop a re-delivery.
    digest = hashlib.sha256(n.idempotency_key.encode()).hexdigest()[:32]
    msg["Message-ID"] = f"<{digest}@watchkeeper>"
    msg["Idempotency-Key"] = n.idempotency_key
    msg["X-Watchkeeper-Incident"] = n.incident_id
    msg.set_content(n.message.text)
    msg.add_alternative(n.message.html, subtype="html")
    return msg


class EmailNotifier(Notifier):
    type = "email"
    secret_settings = ("password_env", "username_env")

    def _recipients(self, n: Notification) -> list[str]:
        s = self.channel.settings
        to = s.get("to") or []
        out = [to] if isinstance(to, str) else [str(a) for a in to]
        roles = set(s.get("to_raci") or ())
        out += [str(r["email"]) for r in n.recipients
                if r.get("email") and (not roles or r.get("raci") in roles)]
        return list(dict.fromkeys(out))

    def _tls(self) -> ssl.SSLContext:
        ca = self.channel.settings.get("ca_file")
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    def _send(self, notification: Notification) -> Delivered:
        s = self.channel.settings
        host, sender = s.get("host"), s.get("sender") or s.get("from")
        if not host or not sender:
            raise ConfigError(f"channel {self.channel.name!r}: needs 'host' and 'sender'")
        recipients = self._recipients(notification)
        if not recipients:
            raise ConfigError(f"channel {self.channel.name!r}: no recipients ('to' or 'to_raci')")
        username = (self.secrets.get("username_env") if s.get("username_env")
                    else s.get("username"))
        password = self.secrets.get("password_env", required=bool(username))
        use_ssl = bool(s.get("ssl", False))
        port = int(s.get("port", 465 if use_ssl else 587))
        msg = build_email(notification, str(sender), recipients)
        try:
            if use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(str(host), port, timeout=self.timeout,
                                                      context=self._tls())
            else:
                smtp = smtplib.SMTP(str(host), port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if not use_ssl and s.get("starttls", True):
                    smtp.starttls(context=self._tls())
                    smtp.ehlo()
                if username:
                    smtp.login(str(username), str(password))
                refused = smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"email: authentication failed ({exc.smtp_code})",
                                retryable=False, status_code=exc.smtp_code) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ConfigError(f"email: server does not support this: {exc}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"email: all recipients refused {codes}",
                                retryable=all(400 <= c < 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"email: SMTP {exc.smtp_code}", status_code=exc.smtp_code,
                                retryable=400 <= exc.smtp_code < 500) from None
        except OSError as exc:  # refused, timed out, disconnected (SMTPException is an OSError)
            # ssl.SSLCertVerificationError is an OSError too, but will not heal by itself.
            retryable = not isinstance(exc, ssl.SSLCertVerificationError)
            raise DeliveryError(f"email: {type(exc).__name__}: {exc}",
                                retryable=retryable) from None
        if refused:
            # Some recipients took it: retrying would duplicate it for them, so report only.
            return Delivered(250, f"refused for {sorted(refused)}")
        return Delivered(250)
