"""Column types shared by every stage's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from watchkeeper.core.clock import ensure_utc


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite has no timezone type and hands back naive datetimes; PostgreSQL `timestamptz` hands
    back the session's zone. Normalising here means every stage compares and hashes the same
    value on both databases. Naive input is taken as UTC (as `core.clock.ensure_utc` does).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return (
            ensure_utc(value)
            if dialect.name != "sqlite"
            else ensure_utc(value).replace(tzinfo=None)
        )

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else ensure_utc(value)


def render_item(kind: str, obj: object, _autogen_context: object) -> str | bool:
    """Alembic autogenerate hook: write our types as the plain SQLAlchemy types they store as.

    Otherwise a migration would say `watchkeeper.store.types.UtcDateTime(...)` without importing
    it, and would be tied to today's model code; the column itself is a plain timestamp.
    """
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False
