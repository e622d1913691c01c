"""Escalation stage: the notification outbox, its delivery log, messages awaiting approval,
and the computed escalation timings per incident.

incident_id is not a foreign key: escalation also notifies about incidents that come from
other sources, and its Alembic branch must not depend on the incidents branch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.store.base import Base
from watchkeeper.store.types import UtcDateTime


class OutboxRow(Base):
    """One notification to deliver. Written in the caller's transaction; delivered by workers.

    status: pending -> sending (claimed, lease until next_attempt_at) -> delivered | dead;
    a failed attempt puts it back to pending with a later next_attempt_at.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(400), nullable=False, unique=True)
    incident_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(200), nullable=False)
    channel_type: Mapped[str] = mapped_column(String(40), nullable=False)
    channel_config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    audience: Mapped[str] = mapped_column(String(20), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(Base):
    """The delivery log: one row per attempt, readable per incident."""

    __tablename__ = "notification_attempts"
    __table_args__ = (
        Index("ix_notification_attempts_incident_id_id", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[str] = mapped_column(ForeignKey("notification_outbox.id"), nullable=False,
                                           index=True)
    incident_id: Mapped[str] = mapped_column(String(64), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    outcome: Mapped[str] = mapped_column(String(12), nullable=False)  # delivered|retry|failed|dead
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float, nullable=False)


class MessageRow(Base):
    """A rendered message for one audience. External audiences wait here as drafts until an
    authorised person approves them; then they are queued to their channels."""

    __tablename__ = "escalation_messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(400), nullable=False, unique=True)
    incident_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    audience: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # draft|approved|queued
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)  # the Notification
    channels: Mapped[list[Any]] = mapped_column(JSON, nullable=False)  # channel configs
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EscalationState(Base):
    """The latest computed routing and timings of an incident, for the incident page."""

    __tablename__ = "escalation_states"

    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tier: Mapped[str] = mapped_column(String(4), nullable=False)
    ack_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_escalation: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_reminder: Mapped[datetime | None] = mapped_column(UtcDateTime)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    route: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
