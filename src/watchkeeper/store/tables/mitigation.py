"""Mitigation stage: model versions and aliases (local registry), live routing state, and the
records of retraining runs, rollouts and sign-offs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.store.base import Base
from watchkeeper.store.types import UtcDateTime


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model", "version", name="model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    artifact_path: Mapped[str] = mapped_column(Text, nullable=False)  # under the data dir
    artifact_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # template, template_version, params, metrics, data window + fingerprint, parent, approvals
    lineage: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)


class ModelAlias(Base):
    __tablename__ = "model_aliases"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    alias: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(200), nullable=False)


class RoutingStateRow(Base):
    """What the serving router obeys; `revision` increases on every change."""

    __tablename__ = "routing_states"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    champion: Mapped[int | None] = mapped_column(Integer)
    fallback_version: Mapped[int | None] = mapped_column(Integer)
    canary: Mapped[int | None] = mapped_column(Integer)
    canary_share: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    shadow: Mapped[int | None] = mapped_column(Integer)
    kill_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    kill_fallback: Mapped[str] = mapped_column(String(300), nullable=False,
                                               default="previous_version")
    kill_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    kill_by: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    kill_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    kill_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class MitigationRun(Base):
    """One playbook action or retraining run: its plan, status, figures and decisions."""

    __tablename__ = "mitigation_runs"
    __table_args__ = (
        Index("ix_mitigation_runs_incident_id", "incident_id"),
        Index("ix_mitigation_runs_model_started_at", "model", "started_at"),
        UniqueConstraint("idempotency_key", name="idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(300), nullable=False)
    incident_id: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class Rollout(Base):
    __tablename__ = "rollouts"
    __table_args__ = (Index("ix_rollouts_model_state", "model", "state"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    run_id: Mapped[str | None] = mapped_column(String(40))  # the retraining run it came from
    candidate: Mapped[int] = mapped_column(Integer, nullable=False)
    baseline: Mapped[int | None] = mapped_column(Integer)
    incident_id: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(30), nullable=False)
    step: Mapped[int] = mapped_column(Integer, nullable=False, default=-1)  # -1: shadow
    step_started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    started_by: Mapped[str] = mapped_column(String(200), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    needs_sign_off: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    signed_off_by: Mapped[str | None] = mapped_column(String(200))
    signed_off_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    verdicts: Mapped[list[Any]] = mapped_column(JSON, nullable=False)


class DataQuarantine(Base):
    """A window of a model's input data held back from retraining (a data-quality cause)."""

    __tablename__ = "data_quarantines"
    __table_args__ = (Index("ix_data_quarantines_model_start", "model", "start"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    start: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    end: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: still broken
    feature: Mapped[str | None] = mapped_column(String(200))
    check: Mapped[str | None] = mapped_column(String(60))  # the data-quality check that fired
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    incident_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    released_by: Mapped[str | None] = mapped_column(String(200))
