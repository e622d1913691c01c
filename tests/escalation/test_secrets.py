"""One shared test every notifier passes: secrets from the environment never appear in logs,
error messages, exception chains or tracebacks, whatever the receiver does (including echoing
the request back in an error body). The outbox side (attempt log, audit) is in test_outbox."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

from escalation.receivers import HttpReceiver, Reply, SmtpSink
from escalation.samples import SMTP_USER, http_channel, sample_notification
from watchkeeper.escalation.config import ChannelConfig
from watchkeeper.escalation.notifiers import NOTIFIERS, DeliveryError

SMTP_SECRET = "smtp-pass-8c1f0e"  # the sink's real password: success must not leak it either


def _echo(path: str, headers: dict[str, str], body: bytes) -> Reply:
    """A hostile receiver: fails and echoes everything it was sent."""
    return Reply(500, f"{path} {headers} ".encode() + body)


def _channel(kind: str, receiver: HttpReceiver, smtp: SmtpSink, ca: Path
             ) -> tuple[ChannelConfig, dict[str, str]]:
    if kind == "email":
        return (ChannelConfig("mail", "email", settings={
            "host": "127.0.0.1", "port": smtp.port, "ca_file": str(ca), "username": SMTP_USER,
            "password_env": "SMTP_PASSWORD", "from": "wk@example.com", "to": ["a@example.com"]}),
            {"SMTP_PASSWORD": SMTP_SECRET})
    if kind == "console":
        return ChannelConfig("log", "console", settings={"level": "DEBUG"}), {}
    return http_channel(kind, receiver.url)


def _outcomes(kind: str, receiver: HttpReceiver, smtp: SmtpSink, ca: Path) -> list[str]:
    """Send in every way that can fail; return every text a secret could leak into."""
    texts: list[str] = []
    channel, env = _channel(kind, receiver, smtp, ca)
    scenarios = ["ok", "echo", "refused"] + (["badpass"] if kind == "email" else [])
    for scenario in scenarios:
        receiver.responder = _echo if scenario == "echo" else None
        if scenario == "refused":
            receiver.down()
        if scenario == "echo" and kind == "email":
            env = {"SMTP_PASSWORD": SMTP_SECRET + "-but-wrong"}
        if scenario == "badpass":
            env = {"SMTP_PASSWORD": "bad-" + SMTP_SECRET}
        try:
            result = NOTIFIERS[kind](channel, env, timeout=2.0).send(sample_notification())
            texts.append(repr(result))
        except DeliveryError as exc:
            texts += [str(exc), repr(exc), *traceback.format_exception(exc)]
            texts.append(repr(exc.__cause__) + repr(exc.__context__))
        finally:
            if scenario == "refused":
                receiver.up()
    return texts


@pytest.mark.parametrize("kind", sorted(NOTIFIERS))
def test_secrets_never_leak(kind: str, receiver: HttpReceiver, smtp: SmtpSink,
                            tls_files: tuple[Path, Path],
                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, including httpx/httpcore/smtplib users
    _, env = _channel(kind, receiver, smtp, tls_files[0])
    secrets = [v for v in env.values()]
    # The secret *parts* of URLs too: the Slack/Teams token path segment.
    secrets += [v.rsplit("/", 1)[-1] for v in env.values() if v.startswith("http")]
    texts = _outcomes(kind, receiver, smtp, tls_files[0])
    texts += [r.getMessage() for r in caplog.records]
    texts.append(caplog.text)
    assert texts, "nothing was exercised"
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"{kind} leaked a secret: {text[:300]}"
    if kind in ("slack", "teams", "pagerduty", "webhook"):
        # Prove the hostile receiver really got (and echoed) the secret-bearing request.
        assert any(r.status == 500 for r in receiver.requests)
