"""Escalation: notification outbox, delivery attempts, messages, escalation states.

Revision ID: 0006_escalation
Revises: 0001_foundation
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_escalation"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("escalation",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(400), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("channel_type", sa.String(40), nullable=False),
        sa.Column("channel_config", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notification_outbox_idempotency_key")),
    )
    op.create_index(op.f("ix_notification_outbox_incident_id"), "notification_outbox",
                    ["incident_id"], unique=False)
    op.create_index("ix_notification_outbox_status_next_attempt_at", "notification_outbox",
                    ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("outbox_id", sa.String(40), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["notification_outbox.id"],
                                name=op.f("fk_notification_attempts_outbox_id_notification_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempts")),
    )
    op.create_index(op.f("ix_notification_attempts_outbox_id"), "notification_attempts",
                    ["outbox_id"], unique=False)
    op.create_index("ix_notification_attempts_incident_id_id", "notification_attempts",
                    ["incident_id", "id"], unique=False)
    op.create_table(
        "escalation_messages",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_escalation_messages_key")),
    )
    op.create_index(op.f("ix_escalation_messages_incident_id"), "escalation_messages",
                    ["incident_id"], unique=False)
    op.create_table(
        "escalation_states",
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(4), nullable=False),
        sa.Column("ack_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_escalation", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_reminder", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("route", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_escalation_states")),
    )


def downgrade() -> None:
    op.drop_table("escalation_states")
    op.drop_index(op.f("ix_escalation_messages_incident_id"), table_name="escalation_messages")
    op.drop_table("escalation_messages")
    op.drop_index("ix_notification_attempts_incident_id_id", table_name="notification_attempts")
    op.drop_index(op.f("ix_notification_attempts_outbox_id"), table_name="notification_attempts")
    op.drop_table("notification_attempts")
    op.drop_index("ix_notification_outbox_status_next_attempt_at",
                  table_name="notification_outbox")
    op.drop_index(op.f("ix_notification_outbox_incident_id"), table_name="notification_outbox")
    op.drop_table("notification_outbox")
