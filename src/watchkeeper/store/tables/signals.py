"""Signals stage: every detector finding of every judged window (re-judging a window replaces
its rows, so a late batch that grew the window leaves one consistent set)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.store.base import Base
from watchkeeper.store.types import UtcDateTime


class SignalRow(Base):
    __tablename__ = "signals"
    __table_args__ = (
        Index("ix_signals_model_window_start", "model", "window_start"),
        Index("ix_signals_kind_created_at", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    window_end: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # Events and labels in the window when judged: a late batch or newly joined labels grow
    # them, and the window is judged again (realised performance needs the labels).
    window_n: Mapped[int] = mapped_column(Integer, nullable=False)
    window_labels: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)  # SignalKind value
    method: Mapped[str] = mapped_column(String(60), nullable=False)
    feature: Mapped[str | None] = mapped_column(String(200), nullable=True)
    segment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    severity: Mapped[float] = mapped_column(Float, nullable=False)  # 0..1
    statistic: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    effect_size: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    catastrophic: Mapped[bool] = mapped_column(Boolean, nullable=False)
    evidence: Mapped[str] = mapped_column(Text, nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
