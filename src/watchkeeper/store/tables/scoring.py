"""Scoring stage: one score per model and window, the persistence state per model, and the
versioned scoring configurations (every score names the version that produced it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.store.base import Base
from watchkeeper.store.types import UtcDateTime


class ScoreRow(Base):
    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("model", "window_start", name="uq_scores_model_window_start"),
        Index("ix_scores_model_window_end", "model", "window_end"),
        Index("ix_scores_tier_window_end", "tier", "window_end"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    window_end: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)  # 0..100
    tier: Mapped[int] = mapped_column(Integer, nullable=False)  # after persistence
    raw_tier: Mapped[int] = mapped_column(Integer, nullable=False)  # from the score alone
    config_version: Mapped[str] = mapped_column(String(80), nullable=False)
    contributors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)  # bypassed, flapping..
    scored_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class ScoringState(Base):
    """What persistence and seasonality remember about a model between windows."""

    __tablename__ = "scoring_states"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    last_window_end: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class ScoringConfigRow(Base):
    """A scoring configuration by its content-derived version; at most one is active."""

    __tablename__ = "scoring_configs"

    version: Mapped[str] = mapped_column(String(80), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)  # before/after fit
