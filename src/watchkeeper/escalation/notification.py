"""What the outbox stores and a notifier sends: one event about one incident for one audience.

It holds no secrets (those are read from the environment at send time), so it can be stored,
logged and audited as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.escalation.messages import Message


@dataclass(frozen=True, slots=True)
class Notification:
    idempotency_key: str  # unique per notification: receivers see each exactly once
    event: str  # trigger | escalate | remind | acknowledge | resolve
    incident_id: str
    model: str
    tier: str
    message: Message
    dedup_key: str = ""  # per incident: PagerDuty's dedup_key, Alertmanager's incident label
    recipients: tuple[Mapping[str, Any], ...] = ()  # {person, raci, name, email}
    opened_at: str = ""  # ISO
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict, whose deep copy dominated tick time.
        return {"idempotency_key": self.idempotency_key, "event": self.event,
                "incident_id": self.incident_id, "model": self.model, "tier": self.tier,
                "message": self.message.to_dict(), "dedup_key": self.dedup_key,
                "recipients": [dict(r) for r in self.recipients], "opened_at": self.opened_at,
                "labels": dict(self.labels)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Notification:
        return cls(**{**d, "message": Message.from_dict(d["message"]),
                      "recipients": tuple(d.get("recipients", ())),
                      "labels": dict(d.get("labels", {}))})
