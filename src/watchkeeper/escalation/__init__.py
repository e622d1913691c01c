"""Layer 8: escalation. Tier -> RACI roles -> people on call -> channels, acknowledgement
deadlines and reminders, messages per audience, and a durable outbox that delivers them.

    svc = EscalationService(policy, clock)             # policy: loaded Policy or a mapping
    with store.session() as s:
        svc.tick(s, incidents)                         # queue due notifications (idempotent)
    deliver_due(store, clock.now())                    # the worker: send, retry, dead-letter
    with store.session() as s:
        timings(s, incident_id)                        # deadlines and route for the incident
        svc.approve_message(s, message_id, "ann", [Role.APPROVER])
"""

from watchkeeper.escalation.config import EscalationConfig
from watchkeeper.escalation.deadlines import Timeline, timeline
from watchkeeper.escalation.incident import IncidentView, NextStep
from watchkeeper.escalation.messages import Message, render_message
from watchkeeper.escalation.notification import Notification
from watchkeeper.escalation.notifiers import NOTIFIERS
from watchkeeper.escalation.oncall import Shift, on_call
from watchkeeper.escalation.outbox import (
    DeliveryStats,
    RetryPolicy,
    deliver_due,
    delivery_log,
    enqueue,
    outbox_counts,
    purge_sent,
    requeue,
)
from watchkeeper.escalation.routing import Route, route
from watchkeeper.escalation.service import (
    EscalationService,
    TickResult,
    approve_message,
    list_messages,
    timings,
)

__all__ = [
    "NOTIFIERS",
    "DeliveryStats",
    "EscalationConfig",
    "EscalationService",
    "IncidentView",
    "Message",
    "NextStep",
    "Notification",
    "RetryPolicy",
    "Route",
    "Shift",
    "TickResult",
    "Timeline",
    "approve_message",
    "deliver_due",
    "delivery_log",
    "enqueue",
    "list_messages",
    "on_call",
    "outbox_counts",
    "purge_sent",
    "render_message",
    "requeue",
    "route",
    "timeline",
    "timings",
]
