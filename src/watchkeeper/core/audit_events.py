"""Typed audit actions. Every decision is appended to the audit trail with one of these."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    INGEST_BATCH = "ingest.batch"
    INGEST_LABELS = "ingest.labels"
    INGEST_QUARANTINE = "ingest.quarantine"
    EVENTS_PURGED = "ingest.retention_purge"
    POLICY_APPLIED = "policy.applied"
    SCORING_CONFIG = "scoring.config"
    WINDOW_SCORED = "scoring.window"
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_TRANSITION = "incident.transition"
    INCIDENT_COMMENT = "incident.comment"
    SILENCE_CREATED = "silence.created"
    SILENCE_EXPIRED = "silence.expired"
    NOTIFICATION_QUEUED = "notification.queued"
    NOTIFICATION_SENT = "notification.sent"
    NOTIFICATION_FAILED = "notification.failed"
    MESSAGE_APPROVED = "message.approved"
    ESCALATED = "incident.escalated"
    ACTION_PLANNED = "mitigation.planned"
    ACTION_EXECUTED = "mitigation.executed"
    RETRAIN = "mitigation.retrain"
    GATE = "mitigation.gate"
    ROLLOUT = "mitigation.rollout"
    ROLLBACK = "mitigation.rollback"
    PROMOTION = "mitigation.promotion"
    SIGN_OFF = "mitigation.sign_off"
    KILL_SWITCH = "mitigation.kill_switch"
    KILL_SWITCH_RESTORED = "mitigation.kill_switch_restored"
    ACCESS_DENIED = "auth.denied"
    TOKEN_CREATED = "auth.token_created"
    TOKEN_REVOKED = "auth.token_revoked"
