"""Each notifier against a real loopback receiver (or aiosmtpd): payload, headers, and whether
a failure is worth retrying."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import pytest

from escalation.receivers import HttpReceiver, Received, Reply, SmtpSink
from escalation.samples import SMTP_PASSWORD, SMTP_USER, http_channel, sample_notification
from watchkeeper.escalation.config import ChannelConfig
from watchkeeper.escalation.notifiers import NOTIFIERS, ConfigError, DeliveryError

HTTP_TYPES = ["webhook", "slack", "teams", "pagerduty", "alertmanager"]


def send(kind: str, receiver: HttpReceiver, event: str = "trigger") -> Received:
    channel, env = http_channel(kind, receiver.url)
    result = NOTIFIERS[kind](channel, env).send(sample_notification(event))
    assert 200 <= (result.status_code or 0) < 300
    return receiver.requests[-1]


def test_catalogue_names_match_the_notifier_types() -> None:
    assert all(cls.type == name for name, cls in NOTIFIERS.items())
    assert set(NOTIFIERS) == {*HTTP_TYPES, "email", "console"}


@pytest.mark.parametrize("kind", HTTP_TYPES)
def test_every_http_notifier_sends_the_idempotency_key(kind: str, receiver: HttpReceiver) -> None:
    req = send(kind, receiver)
    assert req.header("Idempotency-Key") == "inc_01:T2:trigger:ops"


def test_webhook_body_is_signed_with_hmac_sha256(receiver: HttpReceiver) -> None:
    req = send("webhook", receiver)
    expected = hmac.new(b"hmac-secret-5d2a", req.body, hashlib.sha256).hexdigest()
    assert req.header("X-Watchkeeper-Signature") == f"sha256={expected}"
    body = req.json
    assert body["incident_id"] == "inc_01" and body["event"] == "trigger"
    assert body["message"]["score"] == 71.5


def test_webhook_signature_changes_when_the_body_is_tampered(receiver: HttpReceiver) -> None:
    from watchkeeper.escalation.notifiers.webhook import verify

    req = send("webhook", receiver)
    signature = req.header("X-Watchkeeper-Signature") or ""
    assert verify(req.body, "hmac-secret-5d2a", signature)
    assert not verify(req.body.replace(b"71.5", b"11.5"), "hmac-secret-5d2a", signature)


def test_slack_payload_has_blocks_with_facts_and_a_link(receiver: HttpReceiver) -> None:
    req = send("slack", receiver)
    assert req.path == "/services/T0/B0/slack-token-77aa"
    blocks = req.json["blocks"]
    assert blocks[0]["type"] == "header" and "[T2]" in blocks[0]["text"]["text"]
    facts = " ".join(f["text"] for f in blocks[2]["fields"])
    assert "71.5" in facts and "82%" in facts
    assert blocks[-1]["elements"][0]["url"].endswith("/incidents/inc_01")
    assert "jane@example.com" not in req.body.decode()


def test_teams_message_card_and_adaptive_card(receiver: HttpReceiver) -> None:
    card = send("teams", receiver).json
    assert card["@type"] == "MessageCard" and card["themeColor"] == "E8912D"
    assert {"name": "Score", "value": "71.5"} in card["sections"][0]["facts"]
    channel = ChannelConfig("teams", "teams", settings={"url_env": "U", "format": "adaptive"})
    NOTIFIERS["teams"](channel, {"U": receiver.url + "/x"}).send(sample_notification())
    adaptive = receiver.requests[-1].json
    content = adaptive["attachments"][0]["content"]
    assert content["type"] == "AdaptiveCard"
    assert content["actions"][0]["url"].endswith("/incidents/inc_01")


@pytest.mark.parametrize(("event", "action"), [("trigger", "trigger"), ("escalate", "trigger"),
                                               ("acknowledge", "acknowledge"),
                                               ("resolve", "resolve")])
def test_pagerduty_events_v2_actions_share_one_dedup_key(event: str, action: str,
                                                         receiver: HttpReceiver) -> None:
    body = send("pagerduty", receiver, event).json
    assert body["routing_key"] == "pd-routing-key-9f3e"
    assert body["event_action"] == action
    assert body["dedup_key"] == "watchkeeper-inc_01"
    if action == "trigger":
        assert body["payload"]["severity"] == "error" and body["payload"]["source"] == "credit-risk"
    else:
        assert "payload" not in body


def test_alertmanager_posts_a_v2_alert_list(receiver: HttpReceiver) -> None:
    req = send("alertmanager", receiver)
    assert req.path == "/api/v2/alerts"
    assert req.header("Authorization") == "Bearer am-bearer-4c4c"
    [alert] = req.json
    assert alert["labels"]["model"] == "credit-risk" and alert["labels"]["tier"] == "T2"
    assert "endsAt" not in alert
    resolved = send("alertmanager", receiver, "resolve").json[0]
    assert "endsAt" in resolved


@pytest.mark.parametrize("kind", HTTP_TYPES)
@pytest.mark.parametrize(("status", "retryable", "after"), [
    (500, True, None), (502, True, None), (503, True, 2.0), (408, True, None),
    (429, True, 7.0), (400, False, None), (401, False, None), (404, False, None),
])
def test_http_failures_say_whether_to_retry(kind: str, status: int, retryable: bool,
                                            after: float | None, receiver: HttpReceiver) -> None:
    receiver.default = Reply(status, b'{"error": "nope"}',
                             {"Retry-After": "7" if status == 429 else "2"})
    channel, env = http_channel(kind, receiver.url)
    with pytest.raises(DeliveryError) as info:
        NOTIFIERS[kind](channel, env).send(sample_notification())
    assert info.value.retryable is retryable
    assert info.value.status_code == status
    assert info.value.retry_after == after


@pytest.mark.parametrize("kind", HTTP_TYPES)
def test_refused_connection_is_retryable(kind: str) -> None:
    r = HttpReceiver().start()
    url = r.url
    r.down()
    channel, env = http_channel(kind, url)
    with pytest.raises(DeliveryError) as info:
        NOTIFIERS[kind](channel, env).send(sample_notification())
    assert info.value.retryable


def test_timeout_is_retryable(receiver: HttpReceiver) -> None:
    receiver.responder = lambda *_: time.sleep(1.0) or Reply()  # type: ignore[func-returns-value]
    channel, env = http_channel("webhook", receiver.url)
    with pytest.raises(DeliveryError) as info:
        NOTIFIERS["webhook"](channel, env, timeout=0.2).send(sample_notification())
    assert info.value.retryable and "timed out" in str(info.value)


def test_missing_secret_names_the_variable_and_is_not_retryable() -> None:
    channel = ChannelConfig("ops", "slack", settings={"url_env": "OPS_SLACK_URL"})
    with pytest.raises(ConfigError) as info:
        NOTIFIERS["slack"](channel, {}).send(sample_notification())
    assert "OPS_SLACK_URL" in str(info.value) and not info.value.retryable


def email_channel(smtp: SmtpSink, ca_file: str, **extra: object) -> ChannelConfig:
    return ChannelConfig("mail", "email", settings={
        "host": "127.0.0.1", "port": smtp.port, "ca_file": ca_file, "username": SMTP_USER,
        "password_env": "SMTP_PASSWORD", "from": "watchkeeper@example.com",
        "to": ["oncall@example.com"], "to_raci": ["responsible"], **extra})


def test_email_uses_starttls_and_auth_and_sends_text_and_html(smtp: SmtpSink,
                                                             tls_files: tuple) -> None:
    channel = email_channel(smtp, str(tls_files[0]))
    NOTIFIERS["email"](channel, {"SMTP_PASSWORD": SMTP_PASSWORD}).send(sample_notification())
    [msg] = smtp.messages
    assert smtp.auth_attempts == ["ok"]
    assert smtp.envelopes[0][1] == ["oncall@example.com", "carol@example.com"]
    assert msg["Idempotency-Key"] == "inc_01:T2:trigger:ops"
    kinds = [part.get_content_type() for part in msg.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]
    text = msg.get_payload()[0].get_payload(decode=True).decode()
    assert "71.5" in text and "/incidents/inc_01" in text and "jane@example.com" not in text


def test_email_wrong_password_is_not_retryable(smtp: SmtpSink, tls_files: tuple) -> None:
    channel = email_channel(smtp, str(tls_files[0]))
    with pytest.raises(DeliveryError) as info:
        NOTIFIERS["email"](channel, {"SMTP_PASSWORD": "wrong-password"}).send(
            sample_notification())
    assert not info.value.retryable and info.value.status_code == 535
    assert smtp.messages == []


def test_email_untrusted_certificate_is_not_retryable(smtp: SmtpSink) -> None:
    channel = email_channel(smtp, "")
    with pytest.raises(DeliveryError) as info:
        NOTIFIERS["email"](channel, {"SMTP_PASSWORD": SMTP_PASSWORD}).send(sample_notification())
    assert not info.value.retryable


def test_email_server_down_is_retryable(tls_files: tuple) -> None:
    from escalation.receivers import SmtpSink

    sink = SmtpSink(*tls_files, user=SMTP_USER, password=SMTP_PASSWORD)  # never started
    channel = email_channel(sink, str(tls_files[0]))
    with pytest.raises(DeliveryError) as info:
        NOTIFIERS["email"](channel, {"SMTP_PASSWORD": SMTP_PASSWORD}).send(sample_notification())
    assert info.value.retryable


def test_console_logs_the_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="watchkeeper.escalation.console")
    NOTIFIERS["console"](ChannelConfig("log", "console"), {}).send(sample_notification())
    assert "inc_01:T2:trigger:ops" in caplog.text and "Income distribution drift" in caplog.text


def test_console_prints_to_the_configured_stream(capsys: pytest.CaptureFixture[str]) -> None:
    channel = ChannelConfig("log", "console", settings={"stream": "stderr"})
    NOTIFIERS["console"](channel, {}).send(sample_notification())
    assert "Income distribution drift" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="stdout, stderr or none"):
        NOTIFIERS["console"](ChannelConfig("log", "console", settings={"stream": "tty"}),
                             {}).send(sample_notification())
