"""`channels:` where notifications go. Secrets are never written here: a field ending in `_env`
names the environment variable that holds the secret, so the policy can be committed, stored
and shown in the dashboard. The loader turns a literal `url:`/`password:` into an error that
says to use the `_env` form."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from watchkeeper.policy.common import Duration, EnvName, Section, custom_error
from watchkeeper.policy.escalation import AUDIENCES


class _Channel(Section):
    audience: Literal[AUDIENCES] = Field(  # type: ignore[valid-type]
        "oncall", description="Who reads this channel: oncall, executive (internal), or "
        "customer, regulator, partner (external: messages may need approval)."
    )
    timeout: Duration = Field(timedelta(seconds=10), description="Give up on one delivery after.")
    max_attempts: int = Field(
        20, ge=1, le=100, description="Deliveries tried before failing (20 with the outbox's "
        "backoff span about 1.6 h, so an hour-long receiver outage loses nothing).")


class WebhookChannel(_Channel):
    type: Literal["webhook"] = Field(description="webhook: JSON POST to a URL.")
    url_env: EnvName = Field(description="Variable holding the URL.")
    secret_env: EnvName | None = Field(
        None, description="Variable holding an HMAC key; the body is signed with it."
    )


class SlackChannel(_Channel):
    type: Literal["slack"] = Field(description="slack: an incoming-webhook URL.")
    url_env: EnvName = Field(description="Variable holding the incoming-webhook URL.")


class TeamsChannel(_Channel):
    type: Literal["teams"] = Field(description="teams: an incoming-webhook URL.")
    url_env: EnvName = Field(description="Variable holding the incoming-webhook URL.")


class EmailChannel(_Channel):
    type: Literal["email"] = Field(description="email: SMTP.")
    host: str = Field(description="SMTP server host name.")
    port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    ssl: bool = Field(False, description="Connect with implicit TLS (usually port 465).")
    username_env: EnvName | None = Field(None, description="Variable holding the SMTP user.")
    password_env: EnvName | None = Field(None, description="Variable holding the SMTP password.")
    sender: str = Field(description="From address.")
    to: list[str] = Field(
        default_factory=list,
        description="Fixed recipients; the people routed to are added by their email.",
    )

    @model_validator(mode="after")
    def _tls(self) -> EmailChannel:
        if self.ssl and self.starttls:
            raise custom_error("choose ssl (implicit TLS) or starttls, not both")
        return self


class PagerDutyChannel(_Channel):
    type: Literal["pagerduty"] = Field(description="pagerduty: Events API v2.")
    routing_key_env: EnvName = Field(description="Variable holding the integration key.")
    api_url: str = Field(
        "https://events.pagerduty.com/v2/enqueue", description="Events API endpoint."
    )


class AlertmanagerChannel(_Channel):
    type: Literal["alertmanager"] = Field(description="alertmanager: post alerts to Prometheus "
                                          "Alertmanager.")
    url: str = Field(description="Alertmanager base URL (not a secret), e.g. http://am:9093.")


class ConsoleChannel(_Channel):
    type: Literal["console"] = Field(description="console: print to the process output.")
    stream: Literal["stdout", "stderr", "none"] = Field(
        "stdout", description="Which stream; none: the log record only.")


Channel = Annotated[
    WebhookChannel | SlackChannel | TeamsChannel | EmailChannel | PagerDutyChannel
    | AlertmanagerChannel | ConsoleChannel,
    Field(discriminator="type"),
]

CHANNEL_TYPES = ("webhook", "slack", "teams", "email", "pagerduty", "alertmanager", "console")
