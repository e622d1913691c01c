"""Service stage: API tokens (only their hashes are stored) and the engine's cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.store.base import Base
from watchkeeper.store.types import UtcDateTime


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)  # the person or system
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    models: Mapped[list[Any]] = mapped_column(JSON, nullable=False)  # ["*"] = every model
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EngineCursor(Base):
    """The last window of each model that went through the whole tick (signals, score,
    incidents, escalation); moved in the same transaction as the incident changes."""

    __tablename__ = "engine_cursors"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_window_end: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
